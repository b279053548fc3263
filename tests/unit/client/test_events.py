import anyio

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
