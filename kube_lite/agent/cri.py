"""The container runtime interface: what the node agent asks of a container runtime.

Modelled on Kubernetes' CRI (runtime/v1 api.proto), reduced to what the agent uses and spelled
in Python: a `RuntimeService` (pod sandboxes, containers, logs, runtime status) and an
`ImageService` (pull, list, inspect images). A runtime implements both (`ContainerRuntime`), as
containerd and CRI-O do. Runtimes are found by name through the `kube_lite.runtimes` entry
points (`fake`, `subprocess`, `oci`).

Conventions every runtime keeps (the shared conformance suite checks them):

* Times are wall-clock seconds since the epoch as floats, taken from the runtime's injected
  clock; 0.0 means "not yet" (a container never started has started_at 0.0).
* Ids are opaque strings, unique for the runtime's lifetime; a runtime never reuses one.
* Stop and remove are idempotent: stopping a stopped container, removing a removed one, or
  doing either to an unknown id succeeds (CRI asks the same). Status calls on an unknown id
  raise `NotFoundError`.
* A pod sandbox is the shared context of a pod's containers (in real runtimes: namespaces,
  cgroup parent, the network namespace the CNI plugin configures). Containers are created in a
  READY sandbox only. Stopping a sandbox stops its containers; removing it removes them.
* A container's restart count is not the runtime's business: the agent creates a new container
  (with `ContainerMetadata.attempt` one higher) for every restart.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

# Labels the agent puts on sandboxes and containers, as the kubelet does, so that the runtime's
# state can be mapped back to pods after a restart of the agent.
POD_NAME_LABEL = "io.kubernetes.pod.name"
POD_NAMESPACE_LABEL = "io.kubernetes.pod.namespace"
POD_UID_LABEL = "io.kubernetes.pod.uid"
CONTAINER_NAME_LABEL = "io.kubernetes.container.name"


class RuntimeServiceError(Exception):
    """A runtime call failed. `reason` is a short CamelCase word for container statuses and
    events (e.g. "CreateContainerError", "RunContainerError")."""

    reason = "RuntimeError"


class NotFoundError(RuntimeServiceError):
    """No sandbox, container or image with that id or reference."""

    reason = "NotFound"


class ImagePullError(RuntimeServiceError):
    """An image could not be pulled (the agent reports ErrImagePull, then ImagePullBackOff)."""

    reason = "ErrImagePull"


class SandboxState(enum.Enum):
    READY = "SANDBOX_READY"
    NOTREADY = "SANDBOX_NOTREADY"


class ContainerState(enum.Enum):
    CREATED = "CONTAINER_CREATED"
    RUNNING = "CONTAINER_RUNNING"
    EXITED = "CONTAINER_EXITED"
    UNKNOWN = "CONTAINER_UNKNOWN"


# ------------------------------------------------------------------------------------------
# Pod sandboxes


@dataclass(frozen=True, slots=True)
class PodSandboxMetadata:
    """Who the sandbox is for: the pod's name, namespace and uid, and the attempt (0 for the
    first sandbox of a pod, one more for each sandbox re-created after the previous one died)."""

    name: str
    namespace: str
    uid: str
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class PortMapping:
    container_port: int
    host_port: int = 0
    protocol: str = "TCP"
    host_ip: str = ""


@dataclass(frozen=True, slots=True)
class DNSConfig:
    servers: tuple[str, ...] = ()
    searches: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodSandboxConfig:
    """How to make a sandbox. `annotations` are the pod's own (a fake runtime reads its
    behaviour from them); `labels` are the pod's plus the io.kubernetes.pod.* ones.
    `log_directory` is where container logs go (a path the runtime may create)."""

    metadata: PodSandboxMetadata
    hostname: str = ""
    log_directory: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    port_mappings: tuple[PortMapping, ...] = ()
    dns_config: DNSConfig | None = None
    host_network: bool = False


@dataclass(frozen=True, slots=True)
class PodSandboxNetworkStatus:
    """The sandbox's addresses when the runtime configures networking itself ("" when the
    agent does it through a NetworkPlugin, as kube-lite's agent does)."""

    ip: str = ""
    additional_ips: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PodSandboxStatus:
    id: str
    metadata: PodSandboxMetadata
    state: SandboxState
    created_at: float
    network: PodSandboxNetworkStatus = PodSandboxNetworkStatus()
    # The network namespace a NetworkPlugin configures: a path ("/var/run/netns/x"), or ""
    # when the runtime has none (the fake runtime, host-network sandboxes).
    netns: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PodSandbox:
    """One entry of `list_pod_sandboxes`."""

    id: str
    metadata: PodSandboxMetadata
    state: SandboxState
    created_at: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PodSandboxFilter:
    """Every set field must match; label_selector is equality on each key."""

    id: str = ""
    state: SandboxState | None = None
    label_selector: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# Containers


@dataclass(frozen=True, slots=True)
class ContainerMetadata:
    name: str
    attempt: int = 0


@dataclass(frozen=True, slots=True)
class Mount:
    container_path: str
    host_path: str
    readonly: bool = False


@dataclass(frozen=True, slots=True)
class ContainerConfig:
    """How to make a container. `image` is the reference as the pod spec gives it (the image
    must have been pulled); `command` replaces the image's entrypoint, `args` its cmd, as in a
    pod spec. `log_path` is relative to the sandbox's log directory."""

    metadata: ContainerMetadata
    image: str
    command: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    working_dir: str = ""
    envs: tuple[tuple[str, str], ...] = ()
    mounts: tuple[Mount, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    log_path: str = ""
    stdin: bool = False
    tty: bool = False


@dataclass(frozen=True, slots=True)
class ContainerStatus:
    """A container as the runtime sees it now. For an EXITED container, exit_code, reason
    ("Completed", "Error", "OOMKilled", ...) and finished_at are set."""

    id: str
    metadata: ContainerMetadata
    state: ContainerState
    created_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    image: str = ""
    image_ref: str = ""
    reason: str = ""
    message: str = ""
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)
    log_path: str = ""


@dataclass(frozen=True, slots=True)
class Container:
    """One entry of `list_containers`."""

    id: str
    pod_sandbox_id: str
    metadata: ContainerMetadata
    image: str
    image_ref: str
    state: ContainerState
    created_at: float
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ContainerFilter:
    """Every set field must match; label_selector is equality on each key."""

    id: str = ""
    state: ContainerState | None = None
    pod_sandbox_id: str = ""
    label_selector: dict[str, str] = field(default_factory=dict)


# ------------------------------------------------------------------------------------------
# Images and runtime status


@dataclass(frozen=True, slots=True)
class Image:
    """A local image. `id` is the image's content id ("sha256:..."); `repo_tags` the
    normalised references it is known by ("docker.io/library/busybox:latest"); `repo_digests`
    the digest references ("docker.io/library/busybox@sha256:...")."""

    id: str
    repo_tags: tuple[str, ...] = ()
    repo_digests: tuple[str, ...] = ()
    size: int = 0


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """`runtime_name` is also the scheme of container ids in pod statuses ("fake://...")."""

    runtime_name: str
    runtime_version: str
    runtime_api_version: str = "v1"


@dataclass(frozen=True, slots=True)
class RuntimeCondition:
    type: str  # "RuntimeReady" or "NetworkReady"
    status: bool
    reason: str = ""
    message: str = ""


@dataclass(frozen=True, slots=True)
class RuntimeStatus:
    conditions: tuple[RuntimeCondition, ...] = ()

    def ready(self) -> tuple[bool, str]:
        """Whether the RuntimeReady condition holds, and its message when it does not."""
        for condition in self.conditions:
            if condition.type == "RuntimeReady":
                return condition.status, condition.message or condition.reason
        return False, "runtime did not report RuntimeReady"


def matches_labels(labels: dict[str, str], selector: dict[str, str]) -> bool:
    """Equality selection on every key of `selector` (how CRI filters select)."""
    return all(labels.get(key) == value for key, value in selector.items())


# ------------------------------------------------------------------------------------------
# The protocols


@runtime_checkable
class RuntimeService(Protocol):
    """Pod sandboxes and containers. Every call may raise RuntimeServiceError."""

    async def version(self) -> VersionInfo:
        """The runtime's name and version ("fake", "0.1")."""
        ...

    async def status(self) -> RuntimeStatus:
        """Whether the runtime is ready (a RuntimeReady condition)."""
        ...

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        """Create and start a sandbox; return its id. The sandbox is READY on return."""
        ...

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        """Stop every container of the sandbox (at once, no grace) and the sandbox; it becomes
        NOTREADY. Idempotent; an unknown id is not an error."""
        ...

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        """Remove the sandbox and its containers (stopping them first if needed).
        Idempotent; an unknown id is not an error."""
        ...

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        """Raises NotFoundError for an unknown id."""
        ...

    async def list_pod_sandboxes(self, filter: PodSandboxFilter | None = None) -> list[PodSandbox]:
        """The sandboxes matching `filter` (all when None), oldest first."""
        ...

    async def create_container(
        self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig
    ) -> str:
        """Create (not start) a container in a READY sandbox; return its id. State CREATED.
        Raises NotFoundError for an unknown sandbox, RuntimeServiceError for one not ready or
        an image that is not present."""
        ...

    async def start_container(self, container_id: str) -> None:
        """Start a CREATED container; returns once it has started (state RUNNING, or EXITED
        already if it ended at once). Raises RuntimeServiceError for any other state."""
        ...

    async def stop_container(self, container_id: str, timeout: float) -> None:  # noqa: ASYNC109 - CRI's name: the SIGTERM grace
        """Ask the container to stop (SIGTERM), kill it (SIGKILL) after `timeout` seconds,
        and return once it has exited. Idempotent; an unknown id is not an error."""
        ...

    async def remove_container(self, container_id: str) -> None:
        """Remove the container (killing it first if it runs). Idempotent."""
        ...

    async def container_status(self, container_id: str) -> ContainerStatus:
        """Raises NotFoundError for an unknown id."""
        ...

    async def list_containers(self, filter: ContainerFilter | None = None) -> list[Container]:
        """The containers matching `filter` (all when None), oldest first."""
        ...

    async def container_logs(self, container_id: str, *, tail_lines: int | None = None) -> list[str]:
        """The container's output so far, one string per line without the newline (the last
        `tail_lines` only when given). Raises NotFoundError for an unknown id."""
        ...


@runtime_checkable
class ImageService(Protocol):
    """The local image store."""

    async def pull_image(self, image: str) -> str:
        """Make `image` present locally; return its image id ("sha256:...").
        Raises ImagePullError when it cannot."""
        ...

    async def list_images(self) -> list[Image]:
        """Every local image."""
        ...

    async def image_status(self, image: str) -> Image | None:
        """The local image `image` refers to (by reference or id), or None if absent."""
        ...

    async def remove_image(self, image: str) -> None:
        """Remove a local image. Idempotent."""
        ...


@runtime_checkable
class ContainerRuntime(RuntimeService, ImageService, Protocol):
    """A runtime as the agent takes it: both services in one object."""


@runtime_checkable
class ContainerEventSource(Protocol):
    """Optional, for a runtime that can tell what changes in it (CRI's GetContainerEvents, the
    kubelet's Evented PLEG): the agent's PLEG then takes its events instead of relisting it
    every second. A runtime that cannot is relisted.

    Events name pods only (the io.kubernetes.pod.uid label): a pod's worker re-reads what it
    needs. Every change a relist would see must be reported: a sandbox or container that
    appears, changes state or goes away, whoever caused it. Changes a runtime makes on its own
    at a time it knows (a container whose run time ends) are reported once `expire_due` is
    called at or after `next_transition`, or by any call that notices them first."""

    def subscribe_events(self, on_change: Callable[[str], None]) -> None:
        """Call `on_change(pod_uid)` (synchronously, from the runtime call that made it) for
        every change of a sandbox or container carrying a pod uid."""
        ...

    def unsubscribe_events(self, on_change: Callable[[str], None]) -> None:
        """Stop calling `on_change` (unknown ones are ignored)."""
        ...

    def next_transition(self) -> float | None:
        """When (wall-clock seconds on the runtime's clock) the runtime changes on its own
        next, or None when nothing is due to."""
        ...

    def expire_due(self) -> None:
        """Bring into effect (and report) the changes due by now."""
        ...


def normalize_image(image: str) -> str:
    """The fully qualified reference of `image`, as Docker normalises it:
    "busybox" -> "docker.io/library/busybox:latest", "quay.io/x/y" -> "quay.io/x/y:latest";
    a digest reference keeps its digest and gets no tag."""
    name, at, digest = image.partition("@")
    first, slash, rest = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif not ("." in first or ":" in first or first == "localhost"):
        name = f"docker.io/{name}"
    if at:
        return f"{name}@{digest}"
    if ":" not in name.rsplit("/", 1)[-1]:
        name += ":latest"
    return name
