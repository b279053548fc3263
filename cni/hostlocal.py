"""host-local IPAM as a NetworkPlugin: pod IPs from the node's pod CIDR, kept on disk.

It behaves as the standard `host-local` IPAM plugin does, minus the interface plumbing (no
bridge, no veth: the agent's pods get an address and nothing routes to it, which is all a fake
or process-based runtime needs):

* The range is the pod CIDR (given at construction, or later through `update_pod_cidr`, which
  the agent calls with node.spec.podCIDR). The gateway is the range's first address (.1), never
  handed out; the usable range runs from the first address to the last but one (the broadcast
  address is excluded) for IPv4, to the last for IPv6.
* Allocations live under STATE_DIR/NETWORK_NAME/: one file per allocated address, named by the
  address, holding "CONTAINER_ID\\r\\nIFNAME"; `last_reserved_ip.0` remembers the last address
  handed out so the next allocation starts after it (round robin, so a released address is not
  reused at once). A file is created with O_EXCL, so two allocators never get the same address;
  a `lock` file (flock) serialises allocators of the same directory across processes. A new
  HostLocalIPAM on the same directory (an agent restart) sees every allocation.
* `delete` releases every address of (container id, ifname); unknown attachments are fine.
* An exhausted range fails ADD with host-local's message,
  "no IP addresses available in range set: FIRST-LAST".
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import os
from collections.abc import Iterator
from pathlib import Path

from kube_lite.agent.cni import (
    CNI_VERSION,
    DNS,
    ERR_INTERNAL,
    ERR_INVALID_NETWORK_CONFIG,
    CNIError,
    CNIResult,
    IPConfig,
    NetworkStatus,
    PodNetworkInfo,
    Route,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

LAST_RESERVED_FILE = "last_reserved_ip.0"
LOCK_FILE = "lock"


class AddressRange:
    """The usable addresses of one subnet, its gateway excluded from allocation."""

    def __init__(self, subnet: str, *, range_start: str | None = None, range_end: str | None = None,
                 gateway: str | None = None) -> None:
        try:
            network = ipaddress.ip_network(subnet, strict=False)
        except ValueError as exc:
            raise CNIError(ERR_INVALID_NETWORK_CONFIG, f"invalid CIDR {subnet!r}", str(exc)) from None
        host_bits = network.max_prefixlen - network.prefixlen
        if host_bits < 2:
            raise CNIError(ERR_INVALID_NETWORK_CONFIG, f"Network {network} too small to allocate from")
        self.network: IPNetwork = network
        first = network.network_address + 1
        last = network.broadcast_address - 1 if network.version == 4 else network.broadcast_address
        self.start: IPAddress = ipaddress.ip_address(range_start) if range_start else first
        self.end: IPAddress = ipaddress.ip_address(range_end) if range_end else last
        self.gateway: IPAddress = ipaddress.ip_address(gateway) if gateway else first
        for name, address in (("rangeStart", self.start), ("rangeEnd", self.end), ("gateway", self.gateway)):
            if address not in network:
                raise CNIError(ERR_INVALID_NETWORK_CONFIG, f"{name} {address} not in network {network}")
        if int(self.start) > int(self.end):
            raise CNIError(ERR_INVALID_NETWORK_CONFIG, f"RangeStart {self.start} not before RangeEnd {self.end}")

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"

    def __contains__(self, address: object) -> bool:
        return isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) and (
            address.version == self.start.version and int(self.start) <= int(address) <= int(self.end)
        )

    def iterate_after(self, last: IPAddress | None) -> Iterator[IPAddress]:
        """Every candidate once, starting after `last` (from the start when `last` is None or
        outside the range) and wrapping around; the gateway is skipped."""
        size = int(self.end) - int(self.start) + 1
        offset = 0 if last is None or last not in self else int(last) - int(self.start) + 1
        for i in range(size):
            address = ipaddress.ip_address(int(self.start) + (offset + i) % size)
            if address != self.gateway:
                yield address


class MemoryStore:
    """Allocations kept in memory only (no state directory): the same interface as
    HostLocalStore, for embedded clusters without a data directory."""

    def __init__(self) -> None:
        self._owners: dict[IPAddress, tuple[str, str]] = {}
        self._last: IPAddress | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        yield  # one process, no awaits inside: nothing to serialise

    def reserve(self, address: IPAddress, container_id: str, ifname: str) -> bool:
        if address in self._owners:
            return False
        self._owners[address] = (container_id, ifname)
        self._last = address
        return True

    def last_reserved(self) -> IPAddress | None:
        return self._last

    def allocations(self) -> dict[IPAddress, tuple[str, str]]:
        return dict(self._owners)

    def find(self, container_id: str, ifname: str) -> list[IPAddress]:
        return sorted((a for a, owner in self._owners.items() if owner == (container_id, ifname)), key=int)

    def release(self, container_id: str, ifname: str) -> list[IPAddress]:
        released = self.find(container_id, ifname)
        for address in released:
            del self._owners[address]
        return released


class HostLocalStore:
    """The on-disk allocation state of one network (synchronous; calls are short)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o755)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        fd = os.open(self.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def reserve(self, address: IPAddress, container_id: str, ifname: str) -> bool:
        """Claim `address` for the attachment; False when it is taken."""
        try:
            fd = os.open(self.dir / str(address), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(f"{container_id}\r\n{ifname}".encode())
        (self.dir / LAST_RESERVED_FILE).write_text(str(address))
        return True

    def last_reserved(self) -> IPAddress | None:
        try:
            return ipaddress.ip_address((self.dir / LAST_RESERVED_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def allocations(self) -> dict[IPAddress, tuple[str, str]]:
        """Every allocated address and its (container id, ifname)."""
        out: dict[IPAddress, tuple[str, str]] = {}
        for path in self.dir.iterdir():
            try:
                address = ipaddress.ip_address(path.name)
            except ValueError:
                continue  # the lock and last-reserved files
            try:
                owner, _, ifname = path.read_bytes().decode().partition("\r\n")
            except OSError:
                continue
            out[address] = (owner.strip(), ifname.strip())
        return out

    def find(self, container_id: str, ifname: str) -> list[IPAddress]:
        return sorted(
            (a for a, owner in self.allocations().items() if owner == (container_id, ifname)), key=int
        )

    def release(self, container_id: str, ifname: str) -> list[IPAddress]:
        released = self.find(container_id, ifname)
        for address in released:
            with contextlib.suppress(FileNotFoundError):
                (self.dir / str(address)).unlink()
        return released


class HostLocalIPAM:
    """The `hostlocal` network plugin (entry point kube_lite.cni: hostlocal).

    `state_dir` holds one directory per network (`network_name`); None keeps allocations in
    memory only (lost with the process). `subnet` is the pod CIDR when known at construction. `routes` are the destinations reported in every result (the
    default route by default); `dns` is reported as given.
    """

    name = "hostlocal"

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None,
        subnet: str | None = None,
        *,
        network_name: str = "kube-lite",
        range_start: str | None = None,
        range_end: str | None = None,
        gateway: str | None = None,
        routes: tuple[str, ...] | None = None,
        dns: DNS | None = None,
    ) -> None:
        self.store: HostLocalStore | MemoryStore = (
            HostLocalStore(Path(state_dir) / network_name) if state_dir is not None else MemoryStore()
        )
        self.network_name = network_name
        self._range_options = {"range_start": range_start, "range_end": range_end, "gateway": gateway}
        self._routes = routes
        self.dns = dns or DNS()
        self.range: AddressRange | None = None
        if subnet:
            self.update_pod_cidr(subnet)

    @classmethod
    def for_node(cls, node_name: str, *, clock: object = None, state_dir: str | os.PathLike[str] | None = None,
                 subnet: str | None = None) -> HostLocalIPAM:
        """The network of node `node_name` (the plugin constructor the agent's wiring calls):
        allocations under STATE_DIR/networks/kube-lite/, or in memory when `state_dir` is None.
        The range comes later from node.spec.podCIDR unless `subnet` is given."""
        return cls(Path(state_dir) / "networks" if state_dir is not None else None, subnet)

    # ------------------------------------------------------------------ configuration

    def update_pod_cidr(self, cidr: str) -> None:
        """Allocate from `cidr` from now on (addresses already handed out stay allocated)."""
        if self.range is not None and str(self.range.network) == str(ipaddress.ip_network(cidr, strict=False)):
            return
        self.range = AddressRange(cidr, **self._range_options)

    def status(self) -> NetworkStatus:
        if self.range is None:
            return NetworkStatus(False, "host-local IPAM has no pod CIDR yet (node.spec.podCIDR is unset)")
        return NetworkStatus(True)

    def _need_range(self) -> AddressRange:
        if self.range is None:
            raise CNIError(ERR_INVALID_NETWORK_CONFIG, "no pod CIDR configured: node.spec.podCIDR is unset")
        return self.range

    def _result(self, addresses: list[IPAddress], rng: AddressRange) -> CNIResult:
        if self._routes is None:
            routes: tuple[str, ...] = ("0.0.0.0/0",) if rng.network.version == 4 else ("::/0",)
        else:
            routes = self._routes
        return CNIResult(
            cniVersion=CNI_VERSION,
            ips=tuple(
                IPConfig(address=f"{a}/{rng.network.prefixlen}", gateway=str(rng.gateway)) for a in addresses
            ),
            routes=tuple(Route(dst=dst) for dst in routes),
            dns=self.dns,
        )

    # ------------------------------------------------------------------ CNI verbs

    async def add(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> CNIResult:
        """Allocate the next free address for (container_id, ifname)."""
        return self.allocate(container_id, ifname)

    def allocate(self, container_id: str, ifname: str) -> CNIResult:
        """`add`, synchronously."""
        rng = self._need_range()
        with self.store.locked():
            existing = [a for a in self.store.find(container_id, ifname) if a in rng]
            if existing:
                raise CNIError(
                    ERR_INTERNAL,
                    f"{existing[0]} has been allocated to {container_id}, duplicate allocation is not allowed",
                )
            for candidate in rng.iterate_after(self.store.last_reserved()):
                if self.store.reserve(candidate, container_id, ifname):
                    return self._result([candidate], rng)
        raise CNIError(ERR_INTERNAL, f"no IP addresses available in range set: {rng}")

    async def delete(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> None:
        """Release every address of (container_id, ifname); nothing to release is fine."""
        with self.store.locked():
            self.store.release(container_id, ifname)

    async def check(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> None:
        if not self.store.find(container_id, ifname):
            raise CNIError(ERR_INTERNAL, f"host-local: Failed to find address added by container {container_id}")

    # ------------------------------------------------------------------ inspection

    def allocated(self) -> dict[str, str]:
        """Every allocated address and the container id holding it."""
        return {str(a): owner for a, (owner, _) in self.store.allocations().items()}
