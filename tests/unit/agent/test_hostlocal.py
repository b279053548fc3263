"""host-local IPAM: the network conformance suite, then its on-disk state."""

from __future__ import annotations

from pathlib import Path

import pytest
from kube_lite.cni.hostlocal import HostLocalIPAM, MemoryStore

from kube_lite.agent.cni import CNIError, PodNetworkInfo
from tests.unit.agent.network_conformance import *  # noqa: F403
from tests.unit.agent.network_conformance import NetworkHarness

POD = PodNetworkInfo("default", "p", "uid")


@pytest.fixture(params=["disk", "memory"])
def network_harness(request: pytest.FixtureRequest, tmp_path: Path) -> NetworkHarness:
    if request.param == "disk":
        return NetworkHarness(make=lambda subnet: HostLocalIPAM(tmp_path, subnet))
    shared = MemoryStore()  # "the same state" for plugins made by one harness

    def make(subnet: str) -> HostLocalIPAM:
        ipam = HostLocalIPAM(None, subnet)
        ipam.store = shared
        return ipam

    return NetworkHarness(make=make)


def test_for_node(tmp_path: Path) -> None:
    on_disk = HostLocalIPAM.for_node("n1", state_dir=tmp_path)
    assert not on_disk.status().ready  # the range comes from node.spec.podCIDR
    on_disk.update_pod_cidr("10.244.3.0/24")
    on_disk.allocate("c", "eth0")
    assert (tmp_path / "networks" / "kube-lite" / "10.244.3.2").exists()
    in_memory = HostLocalIPAM.for_node("n1", subnet="10.244.4.0/24")
    assert in_memory.allocate("c", "eth0").pod_ips() == ["10.244.4.2"]


async def test_one_file_per_address_with_owner(tmp_path: Path) -> None:
    ipam = HostLocalIPAM(tmp_path, "10.244.0.0/24", network_name="net")
    result = await ipam.add("abc", "", "eth0", POD)
    assert result.ips[0].address == "10.244.0.2/24"  # .1 is the gateway
    assert result.ips[0].gateway == "10.244.0.1"
    assert (tmp_path / "net" / "10.244.0.2").read_bytes() == b"abc\r\neth0"
    assert (tmp_path / "net" / "last_reserved_ip.0").read_text() == "10.244.0.2"
    await ipam.delete("abc", "", "eth0", POD)
    assert not (tmp_path / "net" / "10.244.0.2").exists()


async def test_allocations_survive_a_restart_and_go_round_robin(tmp_path: Path) -> None:
    first = HostLocalIPAM(tmp_path, "10.244.0.0/24")
    a = (await first.add("a", "", "eth0", POD)).pod_ips()
    b = (await first.add("b", "", "eth0", POD)).pod_ips()
    await first.delete("a", "", "eth0", POD)
    restarted = HostLocalIPAM(tmp_path, "10.244.0.0/24")
    assert restarted.allocated() == {b[0]: "b"}
    c = (await restarted.add("c", "", "eth0", POD)).pod_ips()
    assert (a, b, c) == (["10.244.0.2"], ["10.244.0.3"], ["10.244.0.4"])  # a's address is not reused at once


async def test_the_range_wraps_around(tmp_path: Path) -> None:
    ipam = HostLocalIPAM(tmp_path, "10.0.0.0/29")
    got = [(await ipam.add(f"c{i}", "", "eth0", POD)).pod_ips()[0] for i in range(5)]
    assert got == ["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6"]
    await ipam.delete("c1", "", "eth0", POD)
    assert (await ipam.add("again", "", "eth0", POD)).pod_ips() == ["10.0.0.3"]
    with pytest.raises(CNIError, match=r"no IP addresses available in range set: 10\.0\.0\.1-10\.0\.0\.6"):
        await ipam.add("full", "", "eth0", POD)


async def test_no_pod_cidr_yet(tmp_path: Path) -> None:
    ipam = HostLocalIPAM(tmp_path)
    status = ipam.status()
    assert not status.ready and "podCIDR" in status.message
    with pytest.raises(CNIError):
        await ipam.add("a", "", "eth0", POD)
    ipam.update_pod_cidr("10.1.2.0/24")
    assert ipam.status().ready
    assert (await ipam.add("a", "", "eth0", POD)).pod_ips() == ["10.1.2.2"]


async def test_duplicate_add_is_refused(tmp_path: Path) -> None:
    ipam = HostLocalIPAM(tmp_path, "10.1.2.0/24")
    await ipam.add("a", "", "eth0", POD)
    with pytest.raises(CNIError, match="duplicate allocation is not allowed"):
        await ipam.add("a", "", "eth0", POD)
    assert (await ipam.add("a", "", "eth1", POD)).pod_ips() == ["10.1.2.3"]  # another interface


def test_invalid_ranges(tmp_path: Path) -> None:
    with pytest.raises(CNIError):
        HostLocalIPAM(tmp_path, "10.0.0.0/31")
    with pytest.raises(CNIError):
        HostLocalIPAM(tmp_path, "not-a-cidr")
    with pytest.raises(CNIError):
        HostLocalIPAM(tmp_path, "10.0.0.0/24", range_start="10.0.1.5")


async def test_ipv6(tmp_path: Path) -> None:
    ipam = HostLocalIPAM(tmp_path, "fd00:10:244::/120")
    result = await ipam.add("a", "", "eth0", POD)
    assert result.ips[0].address == "fd00:10:244::2/120"
    assert result.routes[0].dst == "::/0"
