"""core/v1 and events.k8s.io/v1 Events are two views of one store, and expire after an hour."""

from kube_lite.clock import VirtualClock
from kube_lite.server.apiserver import APIServer
from kube_lite.store import eventttl


async def test_one_event_seen_through_both_apis() -> None:
    async with APIServer("memory:") as server:
        client = server.client()
        await client.create("events", {
            "metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
            "reason": "Started", "message": "hello", "type": "Normal", "count": 2, "source": {"component": "kubelet"},
        })
        seen = await client.get("events.events.k8s.io", "e1")
        assert seen["apiVersion"] == "events.k8s.io/v1"
        assert seen["regarding"]["name"] == "p" and seen["note"] == "hello"
        assert seen["deprecatedCount"] == 2 and seen["deprecatedSource"] == {"component": "kubelet"}
        await client.create("events.events.k8s.io", {
            "metadata": {"name": "e2"}, "regarding": {"kind": "Pod", "name": "p"}, "reason": "Pulled", "note": "v1 note",
            "type": "Warning", "eventTime": "2026-01-01T00:00:00.000000Z", "reportingController": "ctl",
            "reportingInstance": "ctl-1", "action": "Pull",
        })
        core = await client.get("events", "e2")
        assert core["apiVersion"] == "v1" and core["message"] == "v1 note" and core["involvedObject"]["name"] == "p"
        assert core["reportingComponent"] == "ctl"
        listed = await client.list("events.events.k8s.io", namespace="default")
        assert sorted(e["metadata"]["name"] for e in listed["items"]) == ["e1", "e2"]
        assert {e["apiVersion"] for e in listed["items"]} == {"events.k8s.io/v1"}


async def test_events_expire_an_hour_after_their_last_update() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        events = server.kinds.get("", "v1", "events")
        now = clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        for name in ("old", "fresh"):
            await client.create("events", {"metadata": {"name": name}, "involvedObject": {"name": "x"}, "reason": "R",
                                           "lastTimestamp": now, "firstTimestamp": now})
        await clock.advance(3000)
        await client.patch("events", "fresh", {"lastTimestamp": clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")})
        await clock.advance(700)  # the server's own sweep (every minute) has run meanwhile
        remaining = [e["metadata"]["name"] for e in (await client.list("events"))["items"]]
        assert remaining == ["fresh"]
        assert await eventttl.sweep(server.registry, events, clock) == 0
        await clock.advance(3700)
        assert (await client.list("events"))["items"] == []
