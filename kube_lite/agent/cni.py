"""The network plugin interface: how the node agent gives a pod sandbox its network.

Modelled on the Container Network Interface (CNI) 1.0: ADD, DEL and CHECK for one attachment,
named by (container id, network namespace path, interface name), with the pod's identity
passed as CNI_ARGS (K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_UID, K8S_POD_INFRA_CONTAINER_ID).
ADD returns a CNI 1.0 result; errors carry the CNI error codes. Plugins are found by name
through the `kube_lite.cni` entry points (`hostlocal`, `exec`).

Contract (the shared network conformance suite checks it):

* `add` allocates and configures; it returns a `CNIResult` whose `ips` are non-empty.
* `delete` releases everything `add` took for that attachment; deleting an attachment that
  does not exist (never added, or deleted already) succeeds, as the CNI spec requires.
* `check` raises CNIError when the attachment is not as `add` left it.
* `update_pod_cidr` hands the plugin the node's pod CIDR (node.spec.podCIDR) when the agent
  learns it; plugins that do not care ignore it. `status` says whether the plugin can serve
  ADD now (the node reports NotReady, with the message, while it cannot).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import msgspec

CNI_VERSION = "1.0.0"

# CNI spec error codes (section "Error"); 100 and up are plugin-specific.
ERR_INCOMPATIBLE_VERSION = 1
ERR_UNSUPPORTED_FIELD = 2
ERR_UNKNOWN_CONTAINER = 3
ERR_INVALID_ENV = 4
ERR_IO_FAILURE = 5
ERR_DECODING_FAILURE = 6
ERR_INVALID_NETWORK_CONFIG = 7
ERR_TRY_AGAIN_LATER = 11
ERR_INTERNAL = 999


class CNIError(Exception):
    """A CNI error result: `code`, `msg` and optional `details`, as the spec's error JSON."""

    def __init__(self, code: int, msg: str, details: str = "") -> None:
        super().__init__(f"{msg}: {details}" if details else msg)
        self.code = code
        self.msg = msg
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"cniVersion": CNI_VERSION, "code": self.code, "msg": self.msg}
        if self.details:
            out["details"] = self.details
        return out


class Interface(msgspec.Struct, frozen=True, omit_defaults=True):
    """An interface the plugin created; `sandbox` is the netns path for one inside the pod."""

    name: str
    mac: str = ""
    mtu: int = 0
    sandbox: str = ""


class IPConfig(msgspec.Struct, frozen=True, omit_defaults=True):
    """An address in CIDR form ("10.244.0.5/24"); `interface` indexes `CNIResult.interfaces`."""

    address: str
    gateway: str = ""
    interface: int | None = None


class Route(msgspec.Struct, frozen=True, omit_defaults=True):
    dst: str
    gw: str = ""


class DNS(msgspec.Struct, frozen=True, omit_defaults=True):
    nameservers: tuple[str, ...] = ()
    domain: str = ""
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


class CNIResult(msgspec.Struct, frozen=True, omit_defaults=True):
    """A CNI 1.0 success result. `CNIResult.from_json(plugin_stdout)` and `.to_json()` use
    the spec's field names."""

    cniVersion: str = CNI_VERSION
    interfaces: tuple[Interface, ...] = ()
    ips: tuple[IPConfig, ...] = ()
    routes: tuple[Route, ...] = ()
    dns: DNS = DNS()

    def pod_ips(self) -> list[str]:
        """The bare addresses of `ips` ("10.244.0.5"), in order."""
        return [ip.address.split("/", 1)[0] for ip in self.ips]

    def to_json(self) -> bytes:
        return msgspec.json.encode(self)

    @classmethod
    def from_json(cls, data: bytes | str) -> CNIResult:
        """Parse a result (raises CNIError with ERR_DECODING_FAILURE on bad input)."""
        try:
            return msgspec.json.decode(data, type=cls)
        except msgspec.DecodeError as exc:
            raise CNIError(ERR_DECODING_FAILURE, "failed to decode CNI result", str(exc)) from None


@dataclass(frozen=True, slots=True)
class PodNetworkInfo:
    """The pod an attachment is for (the CNI_ARGS the kubelet passes)."""

    namespace: str
    name: str
    uid: str

    def cni_args(self, sandbox_id: str) -> str:
        """The CNI_ARGS string: "IgnoreUnknown=1;K8S_POD_NAMESPACE=...;..."."""
        return ";".join(
            [
                "IgnoreUnknown=1",
                f"K8S_POD_NAMESPACE={self.namespace}",
                f"K8S_POD_NAME={self.name}",
                f"K8S_POD_INFRA_CONTAINER_ID={sandbox_id}",
                f"K8S_POD_UID={self.uid}",
            ]
        )


@dataclass(frozen=True, slots=True)
class NetworkStatus:
    """Whether the plugin can serve ADD now; `message` says why not."""

    ready: bool
    message: str = ""


@runtime_checkable
class NetworkPlugin(Protocol):
    """A pod network. Every method may raise CNIError."""

    name: str

    async def add(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> CNIResult:
        """Attach the sandbox `container_id` (network namespace `netns`, interface `ifname`)."""
        ...

    async def delete(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> None:
        """Detach it and release what ADD took. Succeeds when there is nothing to release."""
        ...

    async def check(self, container_id: str, netns: str, ifname: str, pod: PodNetworkInfo) -> None:
        """Raise CNIError unless the attachment is as ADD left it."""
        ...

    def update_pod_cidr(self, cidr: str) -> None:
        """The node's pod CIDR, when the agent learns or re-reads it."""
        ...

    def status(self) -> NetworkStatus:
        """Whether ADD can succeed now (e.g. False while a plugin has no pod CIDR)."""
        ...
