"""The network conformance suite: what every NetworkPlugin (kube_lite.agent.cni) must do.

A plugin's test module provides a `network_harness` fixture and imports the tests:

    from tests.unit.agent.network_conformance import *  # noqa: F401,F403

    @pytest.fixture
    async def network_harness(tmp_path):
        yield NetworkHarness(make=lambda subnet: ExecPlugin(..., subnet=subnet),
                             sandbox=make_netns, release=delete_netns)

`make(subnet)` returns a plugin configured for `subnet` (state kept in the fixture's own
directory, so two plugins made by one harness share their allocations, as two processes of
the same plugin would); `sandbox(container_id)` returns the network namespace path to attach
(any string for IPAM-only plugins) and `release(container_id)` disposes of it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import pytest

from kube_lite.agent.cni import CNI_VERSION, CNIError, CNIResult, NetworkPlugin, PodNetworkInfo

__all__ = [
    "NetworkHarness",
    "test_add_gives_an_address_in_the_subnet",
    "test_addresses_are_distinct",
    "test_check_follows_add_and_delete",
    "test_delete_is_idempotent",
    "test_exhausted_range_fails_and_release_makes_room",
    "test_result_round_trips_as_cni_json",
    "test_status_is_ready_with_a_subnet",
]

SUBNET = "10.88.0.0/24"
SMALL_SUBNET = "10.89.0.0/29"  # .1 gateway, .2-.6 usable, .7 broadcast


async def _no_netns(container_id: str) -> str:
    return f"/var/run/netns/{container_id}"


async def _nothing(container_id: str) -> None:
    return None


@dataclass
class NetworkHarness:
    make: Callable[[str], NetworkPlugin]
    sandbox: Callable[[str], Awaitable[str]] = _no_netns
    release: Callable[[str], Awaitable[None]] = _nothing
    _netns: dict[str, str] = field(default_factory=dict)

    async def add(self, plugin: NetworkPlugin, container_id: str) -> CNIResult:
        netns = self._netns.get(container_id) or await self.sandbox(container_id)
        self._netns[container_id] = netns
        return await plugin.add(container_id, netns, "eth0", _pod(container_id))

    async def delete(self, plugin: NetworkPlugin, container_id: str) -> None:
        netns = self._netns.get(container_id, f"/var/run/netns/{container_id}")
        await plugin.delete(container_id, netns, "eth0", _pod(container_id))

    async def check(self, plugin: NetworkPlugin, container_id: str) -> None:
        netns = self._netns.get(container_id, f"/var/run/netns/{container_id}")
        await plugin.check(container_id, netns, "eth0", _pod(container_id))

    async def cleanup(self) -> None:
        for container_id in list(self._netns):
            await self.release(container_id)
        self._netns.clear()


def _pod(container_id: str) -> PodNetworkInfo:
    return PodNetworkInfo("default", f"pod-{container_id}", f"uid-{container_id}")


def _address(result: CNIResult) -> ipaddress.IPv4Interface | ipaddress.IPv6Interface:
    assert result.ips, "an ADD result has at least one IP"
    return ipaddress.ip_interface(result.ips[0].address)


# ------------------------------------------------------------------------------------------


async def test_status_is_ready_with_a_subnet(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    assert plugin.status().ready
    assert plugin.name


async def test_add_gives_an_address_in_the_subnet(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    try:
        result = await network_harness.add(plugin, "c1")
        assert result.cniVersion == CNI_VERSION
        address = _address(result)
        network = ipaddress.ip_network(SUBNET)
        assert address.ip in network
        assert address.network == network  # the prefix length is the subnet's
        assert address.ip not in (network.network_address, network.broadcast_address)
        gateway = result.ips[0].gateway
        if gateway:
            assert ipaddress.ip_address(gateway) in network
            assert ipaddress.ip_address(gateway) != address.ip
        assert result.pod_ips() == [str(address.ip)]
    finally:
        await network_harness.delete(plugin, "c1")
        await network_harness.cleanup()


async def test_addresses_are_distinct(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    ids = [f"d{i}" for i in range(4)]
    try:
        addresses = [_address(await network_harness.add(plugin, cid)).ip for cid in ids]
        assert len(set(addresses)) == len(ids)
        # Another instance on the same state (another process, a restart) sees them taken.
        other = network_harness.make(SUBNET)
        more = _address(await network_harness.add(other, "d-other")).ip
        assert more not in addresses
        ids.append("d-other")
    finally:
        for cid in ids:
            await network_harness.delete(plugin, cid)
        await network_harness.cleanup()


async def test_check_follows_add_and_delete(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    try:
        await network_harness.add(plugin, "k1")
        await network_harness.check(plugin, "k1")
        await network_harness.delete(plugin, "k1")
        with pytest.raises(CNIError):
            await network_harness.check(plugin, "k1")
    finally:
        await network_harness.delete(plugin, "k1")
        await network_harness.cleanup()


async def test_delete_is_idempotent(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    try:
        await network_harness.delete(plugin, "never-added")
        await network_harness.add(plugin, "twice")
        await network_harness.delete(plugin, "twice")
        await network_harness.delete(plugin, "twice")
    finally:
        await network_harness.cleanup()


async def test_exhausted_range_fails_and_release_makes_room(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SMALL_SUBNET)
    ids = [f"x{i}" for i in range(5)]
    try:
        addresses = [_address(await network_harness.add(plugin, cid)).ip for cid in ids]
        assert len(set(addresses)) == 5
        with pytest.raises(CNIError) as caught:
            await network_harness.add(plugin, "one-too-many")
        assert "no IP addresses available" in str(caught.value)
        await network_harness.delete(plugin, "one-too-many")
        await network_harness.delete(plugin, "x2")
        again = _address(await network_harness.add(plugin, "x-new")).ip
        assert again == addresses[2]  # the only free address
        ids.append("x-new")
    finally:
        for cid in ids:
            await network_harness.delete(plugin, cid)
        await network_harness.cleanup()


async def test_result_round_trips_as_cni_json(network_harness: NetworkHarness) -> None:
    plugin = network_harness.make(SUBNET)
    try:
        result = await network_harness.add(plugin, "j1")
        assert CNIResult.from_json(result.to_json()) == result
    finally:
        await network_harness.delete(plugin, "j1")
        await network_harness.cleanup()
