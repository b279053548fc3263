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
  HostLocalIPAM on the same directory (an agent restart) sees every allocation. The state is
  kept in memory as well and written through, so an allocation does not read the directory
  (see HostLocalStore for when it is read again).
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


class _Allocations:
    """Allocated addresses and their owners, indexed both ways (in memory)."""

    def __init__(self) -> None:
        self.owners: dict[IPAddress, tuple[str, str]] = {}
        self.by_owner: dict[tuple[str, str], list[IPAddress]] = {}
        self.last: IPAddress | None = None

    def add(self, address: IPAddress, owner: tuple[str, str]) -> None:
        self.owners[address] = owner
        self.by_owner.setdefault(owner, []).append(address)

    def find(self, owner: tuple[str, str]) -> list[IPAddress]:
        return sorted(self.by_owner.get(owner, ()), key=int)

    def pop(self, owner: tuple[str, str]) -> list[IPAddress]:
        released = sorted(self.by_owner.pop(owner, ()), key=int)
        for address in released:
            self.owners.pop(address, None)
        return released


class MemoryStore:
    """Allocations kept in memory only (no state directory): the same interface as
    HostLocalStore, for embedded clusters without a data directory."""

    def __init__(self) -> None:
        self._state = _Allocations()

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        yield  # one process, no awaits inside: nothing to serialise

    def reserve(self, address: IPAddress, container_id: str, ifname: str) -> bool:
        if address in self._state.owners:
            return False
        self._state.add(address, (container_id, ifname))
        self._state.last = address
        return True

    def last_reserved(self) -> IPAddress | None:
        return self._state.last

    def allocations(self) -> dict[IPAddress, tuple[str, str]]:
        return dict(self._state.owners)

    def find(self, container_id: str, ifname: str) -> list[IPAddress]:
        return self._state.find((container_id, ifname))

    def release(self, container_id: str, ifname: str) -> list[IPAddress]:
        return self._state.pop((container_id, ifname))


class HostLocalStore:
    """The on-disk allocation state of one network (synchronous; calls are short).

    Every change is written through to the directory; reads come from an in-memory copy, so an
    allocation costs a few small writes rather than reading every file of the range. The copy is
    read again from disk when another process may have changed the directory: under the lock,
    when the generation counter that kube-lite allocators keep in the lock file, or the
    directory's mtime (other writers, such as the host-local binary), differs from what this
    store last saw; and whenever an address it believed free turns out taken."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o755)
        self._state: _Allocations | None = None
        self._seen: tuple[int, int] | None = None  # (generation, directory mtime) of self._state
        self._lock_fd: int | None = None

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        fd = os.open(self.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._lock_fd = fd
            yield
        finally:
            self._lock_fd = None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ------------------------------------------------------------------ the in-memory copy

    def _generation(self) -> int:
        """The change counter in the lock file (0 when empty or unreadable)."""
        try:
            if self._lock_fd is not None:
                raw = os.pread(self._lock_fd, 20, 0)
            else:
                raw = (self.dir / LOCK_FILE).read_bytes()[:20]
            return int(raw) if raw.strip() else 0
        except (OSError, ValueError):
            return 0

    def _marker(self) -> tuple[int, int]:
        try:
            mtime = os.stat(self.dir).st_mtime_ns
        except OSError:
            mtime = 0
        return self._generation(), mtime

    def _current(self) -> _Allocations:
        """The allocations, read from disk again when someone else may have changed them."""
        marker = self._marker()
        if self._state is None or marker != self._seen:
            self._state = self._load()
            self._seen = marker
        return self._state

    def _load(self) -> _Allocations:
        state = _Allocations()
        for path in self.dir.iterdir():
            try:
                address = ipaddress.ip_address(path.name)
            except ValueError:
                continue  # the lock and last-reserved files
            try:
                owner, _, ifname = path.read_bytes().decode().partition("\r\n")
            except OSError:
                continue
            state.add(address, (owner.strip(), ifname.strip()))
        try:
            state.last = ipaddress.ip_address((self.dir / LAST_RESERVED_FILE).read_text().strip())
        except (OSError, ValueError):
            state.last = None
        return state

    def _changed(self) -> None:
        """After a write of ours: bump the generation (inside the lock) and note the marker."""
        generation = self._generation() + 1
        if self._lock_fd is not None:
            with contextlib.suppress(OSError):
                os.pwrite(self._lock_fd, str(generation).encode(), 0)
        self._seen = self._marker()

    # ------------------------------------------------------------------ the store's verbs

    def reserve(self, address: IPAddress, container_id: str, ifname: str) -> bool:
        """Claim `address` for the attachment; False when it is taken."""
        state = self._current()
        if address in state.owners:
            return False
        try:
            fd = os.open(self.dir / str(address), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            self._state = None  # someone else wrote: read everything again next time
            return False
        with os.fdopen(fd, "wb") as f:
            f.write(f"{container_id}\r\n{ifname}".encode())
        (self.dir / LAST_RESERVED_FILE).write_text(str(address))
        state.add(address, (container_id, ifname))
        state.last = address
        self._changed()
        return True

    def last_reserved(self) -> IPAddress | None:
        return self._current().last

    def allocations(self) -> dict[IPAddress, tuple[str, str]]:
        """Every allocated address and its (container id, ifname)."""
        return dict(self._current().owners)

    def find(self, container_id: str, ifname: str) -> list[IPAddress]:
        return self._current().find((container_id, ifname))

    def release(self, container_id: str, ifname: str) -> list[IPAddress]:
        released = self._current().pop((container_id, ifname))
        for address in released:
            with contextlib.suppress(FileNotFoundError):
                (self.dir / str(address)).unlink()
        if released:
            self._changed()
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
