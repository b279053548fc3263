import anyio
import pytest

from kube_lite.clock import VirtualClock
from kube_lite.controllers.nodeipam import CIDRAllocator, NodeIPAMController
from kube_lite.server.apiserver import APIServer


def test_allocator_hands_out_the_lowest_free_range() -> None:
    alloc = CIDRAllocator("10.244.0.0/16", 24)
    assert [alloc.allocate() for _ in range(3)] == ["10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"]
    alloc.release("10.244.1.0/24")
    alloc.occupy("10.244.3.0/24")
    assert alloc.allocate() == "10.244.1.0/24"  # the lowest free range first
    assert alloc.allocate() == "10.244.4.0/24"


def test_allocator_full_and_bad_mask() -> None:
    alloc = CIDRAllocator("10.0.0.0/30", 31)
    alloc.allocate()
    alloc.allocate()
    with pytest.raises(ValueError, match="no remaining CIDRs"):
        alloc.allocate()
    with pytest.raises(ValueError, match="does not fit"):
        CIDRAllocator("10.0.0.0/16", 8)


async def test_every_node_gets_a_distinct_pod_cidr_and_existing_ones_are_kept() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        client = server.client()
        await client.create("nodes", {"metadata": {"name": "old"}, "spec": {"podCIDR": "10.244.0.0/24"}})
        controller = NodeIPAMController(client, clock)
        async with anyio.create_task_group() as tg:
            await tg.start(controller.run)
            for name in ("a", "b", "c"):
                await client.create("nodes", {"metadata": {"name": name}})
            for _ in range(200):
                nodes = (await client.list("nodes"))["items"]
                if all((n.get("spec") or {}).get("podCIDR") for n in nodes):
                    break
                await clock.advance(0.01)
            tg.cancel_scope.cancel()
        cidrs = {n["metadata"]["name"]: n["spec"]["podCIDR"] for n in nodes}
        assert cidrs["old"] == "10.244.0.0/24"
        assert len(set(cidrs.values())) == 4
        assert all(n["spec"]["podCIDRs"] == [n["spec"]["podCIDR"]] for n in nodes if n["metadata"]["name"] != "old")
