from typing import Any

import anyio
import anyio.lowlevel

from kube_lite.api.errors import APIError
from kube_lite.client.events import WARNING, EventRecorder
from kube_lite.clock import VirtualClock
from kube_lite.server.apiserver import APIServer


async def test_repeats_aggregate_into_one_event_with_a_count() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        pod = await client.create("configmaps", {"metadata": {"name": "target"}})
        recorder = EventRecorder(client, "default-scheduler", clock=clock)
        async with anyio.create_task_group() as tg:
            await tg.start(recorder.run)
            for _ in range(3):
                recorder.event(pod, WARNING, "FailedScheduling", "0/1 nodes are available")
                await clock.advance(10)
            recorder.event(pod, "Normal", "Scheduled", "Successfully assigned default/target to node1")
            while recorder.pending:
                await anyio.lowlevel.checkpoint()
            tg.cancel_scope.cancel()
        events = (await client.list("events", namespace="default"))["items"]
        by_reason = {e["reason"]: e for e in events}
        assert set(by_reason) == {"FailedScheduling", "Scheduled"}
        failed = by_reason["FailedScheduling"]
        assert failed["count"] == 3 and failed["type"] == "Warning"
        assert failed["involvedObject"]["name"] == "target" and failed["involvedObject"]["kind"] == "ConfigMap"
        assert failed["source"] == {"component": "default-scheduler"}
        assert failed["firstTimestamp"] < failed["lastTimestamp"]
        selected = await client.list("events", namespace="default", field_selector="involvedObject.name=target,reason=Scheduled")
        assert [e["reason"] for e in selected["items"]] == ["Scheduled"]


class _FakeClient:
    """Records Event writes; knows the Events it created (a patch of another one is a 404)."""

    def __init__(self) -> None:
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self.events: dict[str, dict[str, Any]] = {}

    async def create(self, kind: str, body: dict[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        self.writes.append(("create", body["metadata"]["name"], body))
        self.events[body["metadata"]["name"]] = dict(body)
        return body

    async def patch(self, kind: str, name: str, patch: dict[str, Any], *, namespace: str | None = None) -> dict[str, Any]:
        self.writes.append(("patch", name, patch))
        if name not in self.events:
            raise APIError(404, "NotFound", f'events "{name}" not found')
        self.events[name].update(patch)
        return self.events[name]


RS = {"kind": "ReplicaSet", "apiVersion": "apps/v1", "metadata": {"name": "web", "namespace": "default", "uid": "u1"}}


async def _record(recorder: EventRecorder, calls: list[tuple[str, str, str]], clock: VirtualClock, step: float = 0.0) -> None:
    async with anyio.create_task_group() as tg:
        await tg.start(recorder.run)
        for type_, reason, message in calls:
            recorder.event(RS, type_, reason, message)
            if step:
                await clock.advance(step)
        while recorder.pending:
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()


async def test_similar_events_are_combined_after_ten() -> None:
    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "kube-controller-manager", clock=clock)  # type: ignore[arg-type]
    await _record(recorder, [("Normal", "SuccessfulCreate", f"Created pod: web-{i}") for i in range(20)], clock)
    created = [body for verb, _, body in client.writes if verb == "create"]
    # Nine distinct messages, then one combined Event whose count grows.
    assert [e["message"] for e in created[:9]] == [f"Created pod: web-{i}" for i in range(9)]
    assert len(created) == 10
    combined = created[9]
    assert combined["message"] == "(combined from similar events): Created pod: web-9"
    assert combined["source"] == {"component": "kube-controller-manager"}
    patches = [patch for verb, name, patch in client.writes if verb == "patch"]
    assert all(name == combined["metadata"]["name"] for verb, name, _ in client.writes if verb == "patch")
    assert len(patches) == 10
    assert client.events[combined["metadata"]["name"]]["count"] == 11
    assert client.events[combined["metadata"]["name"]]["message"] == "(combined from similar events): Created pod: web-19"


async def test_the_spam_filter_lets_25_events_per_object_through_then_one_per_5_minutes() -> None:
    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "kube-controller-manager", clock=clock)  # type: ignore[arg-type]
    await _record(recorder, [("Normal", "SuccessfulCreate", f"Created pod: web-{i}") for i in range(100)], clock)
    assert len(client.writes) == 25
    assert recorder.filtered == 75
    # The bucket refills one token every five minutes.
    await clock.advance(300)
    await _record(recorder, [("Normal", "SuccessfulDelete", "Deleted pod: web-1"), ("Normal", "SuccessfulDelete", "Deleted pod: web-2")], clock)
    assert len(client.writes) == 26
    assert client.writes[-1][2]["message"] == "Deleted pod: web-1"


async def test_a_counted_event_that_expired_is_written_again_under_its_name() -> None:
    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "default-scheduler", clock=clock)  # type: ignore[arg-type]
    await _record(recorder, [("Warning", "FailedScheduling", "0/1 nodes are available")], clock)
    name = client.writes[0][1]
    client.events.clear()  # the Event's TTL passed
    await _record(recorder, [("Warning", "FailedScheduling", "0/1 nodes are available")], clock)
    assert [(verb, n) for verb, n, _ in client.writes] == [("create", name), ("patch", name), ("create", name)]
    assert client.events[name]["count"] == 2


async def test_named_views_share_one_recorder_but_keep_their_source() -> None:
    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "kube-controller-manager", clock=clock)  # type: ignore[arg-type]
    rs, deploy = recorder.named("replicaset-controller"), recorder.named("deployment-controller")
    async with anyio.create_task_group() as tg:
        await tg.start(recorder.run)
        for _ in range(2):
            rs.event(RS, "Normal", "SuccessfulCreate", "Created pod: web-1")
            deploy.event(RS, "Normal", "SuccessfulCreate", "Created pod: web-1")
        while recorder.pending:
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    created = [body for verb, _, body in client.writes if verb == "create"]
    # The same event from two sources is two Events, each counted on its own.
    assert sorted(e["source"]["component"] for e in created) == ["deployment-controller", "replicaset-controller"]
    assert all(e["reportingComponent"] == e["source"]["component"] for e in created)
    assert sorted(client.events[e["metadata"]["name"]]["count"] for e in created) == [2, 2]


async def test_an_attached_recorder_writes_from_a_task_that_exists_only_while_events_wait() -> None:
    import asyncio

    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "kubelet", "node-1", clock=clock)  # type: ignore[arg-type]

    def writers() -> int:
        return sum(1 for t in asyncio.all_tasks() if t.get_name().startswith("event writer"))

    recorder.event(RS, "Normal", "Starting", "before any task group")  # waits in the buffer
    async with anyio.create_task_group() as tg:
        recorder.attach(tg)
        await anyio.wait_all_tasks_blocked()
        assert recorder.pending == 0 and len(client.writes) == 1 and writers() == 0
        recorder.event(RS, "Normal", "Pulled", "one")
        recorder.event(RS, "Normal", "Created", "two")
        assert writers() == 1 and recorder.pending == 2
        await anyio.wait_all_tasks_blocked()
        assert recorder.pending == 0 and writers() == 0
        assert [body["reason"] for _, _, body in client.writes] == ["Starting", "Pulled", "Created"]
        assert client.writes[0][2]["source"] == {"component": "kubelet", "host": "node-1"}
        recorder.detach()
    recorder.event(RS, "Normal", "Killing", "after")
    assert recorder.pending == 1  # kept for the next attach


async def test_event_names_sort_in_the_order_events_happened() -> None:
    # client-go names an Event NAME.<hex nanoseconds>, so a list (sorted by name) shows events of
    # the same second in order; kubectl describe keeps that order among equal timestamps.
    clock = VirtualClock()
    client = _FakeClient()
    recorder = EventRecorder(client, "kubelet", clock=clock)  # type: ignore[arg-type]
    reasons = ["Scheduled", "Pulling", "Pulled", "Created", "Started"]
    await _record(recorder, [("Normal", reason, f"{reason} web") for reason in reasons], clock)
    created = [body for verb, _, body in client.writes if verb == "create"]
    assert [e["reason"] for e in sorted(created, key=lambda e: e["metadata"]["name"])] == reasons
    assert all(e["metadata"]["name"].startswith(f"{RS['metadata']['name']}.") for e in created)
