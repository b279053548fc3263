"""The fake container runtime: containers that "run" in memory, on the injected clock.

Nothing is executed. A started container runs until it is stopped, unless the pod's
annotations (which reach the runtime through the sandbox config) say otherwise:

    fake.kube-lite.dev/run-seconds     exit this long after starting (on the clock)
    fake.kube-lite.dev/exit-code       the exit code then (default 0; alone, it means
                                       run-seconds 0: the container exits as it starts)
    fake.kube-lite.dev/start-seconds   start_container takes this long
    fake.kube-lite.dev/stop-seconds    the container needs this long to exit on SIGTERM
                                       (stop_container kills it at its timeout if sooner)

Each key may be suffixed with ".CONTAINER_NAME" to apply to one container only (the suffixed key
wins), and a container's own config annotations win over the sandbox's. An exit on its own is
reason "Completed" (code 0) or "Error"; SIGTERM ends a container with 143, the kill at the
timeout with 137, as for a process that does not handle signals.

A container's state is a pure function of the clock: an expired run time is noticed by the next
status or list call, so the runtime has no background task and needs no `run()`. Images are
"pulled" at once and listed afterwards. Each container logs a few lines.

It is a `ContainerEventSource`: every sandbox and container change is reported to the
subscribers as it happens, and the run times that end next are kept in a heap (`next_transition`,
`expire_due`), so the agent's PLEG never relists a fake node to find out that nothing changed.

Sandboxes and containers are indexed by sandbox id and by pod uid (the io.kubernetes.pod.uid
label), so a list filtered by either costs what it returns, not what the node runs: a node's
pod workers each list their own pod's containers, and a thousand fake nodes share one process.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from kube_lite.agent.cri import (
    POD_UID_LABEL,
    Container,
    ContainerConfig,
    ContainerFilter,
    ContainerState,
    ContainerStatus,
    Image,
    NotFoundError,
    PodSandbox,
    PodSandboxConfig,
    PodSandboxFilter,
    PodSandboxStatus,
    RuntimeCondition,
    RuntimeServiceError,
    RuntimeStatus,
    SandboxState,
    VersionInfo,
    matches_labels,
    normalize_image,
)
from kube_lite.clock import Clock, RealClock

ANNOTATION_PREFIX = "fake.kube-lite.dev/"
RUN_SECONDS = ANNOTATION_PREFIX + "run-seconds"
EXIT_CODE = ANNOTATION_PREFIX + "exit-code"
START_SECONDS = ANNOTATION_PREFIX + "start-seconds"
STOP_SECONDS = ANNOTATION_PREFIX + "stop-seconds"

SIGTERM_EXIT = 143
SIGKILL_EXIT = 137
FAKE_IMAGE_SIZE = 4_194_304


@dataclass(frozen=True, slots=True)
class _Behaviour:
    run_seconds: float | None = None
    exit_code: int = 0
    start_seconds: float = 0.0
    stop_seconds: float = 0.0


def _behaviour(name: str, sandbox: PodSandboxConfig, config: ContainerConfig) -> _Behaviour:
    def value(key: str) -> str | None:
        for source in (config.annotations, sandbox.annotations):
            for k in (f"{key}.{name}", key):
                if k in source:
                    return source[k]
        return None

    def number(key: str) -> float | None:
        raw = value(key)
        if raw is None:
            return None
        try:
            return max(float(raw), 0.0)
        except ValueError:
            raise RuntimeServiceError(f"invalid annotation {key}={raw!r}: not a number") from None

    if not any(k.startswith(ANNOTATION_PREFIX) for source in (config.annotations, sandbox.annotations) for k in source):
        return _DEFAULT_BEHAVIOUR  # shared: most containers just run
    run_seconds = number(RUN_SECONDS)
    code = number(EXIT_CODE)
    exit_code = 0
    if code is not None:
        exit_code = int(code)
        if run_seconds is None:
            run_seconds = 0.0
    return _Behaviour(run_seconds, exit_code, number(START_SECONDS) or 0.0, number(STOP_SECONDS) or 0.0)


_DEFAULT_BEHAVIOUR = _Behaviour()


@dataclass(slots=True)
class _Sandbox:
    id: str
    config: PodSandboxConfig
    state: SandboxState
    created_at: float
    # Its containers by id, oldest first (the index that makes sandbox operations O(its own)).
    containers: dict[str, _Container] = field(default_factory=dict)

    @property
    def uid(self) -> str | None:
        return self.config.labels.get(POD_UID_LABEL)


@dataclass(slots=True)
class _Container:
    id: str
    sandbox_id: str
    config: ContainerConfig
    behaviour: _Behaviour
    image_ref: str
    state: ContainerState
    created_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    exit_code: int = 0
    reason: str = ""
    # Its output beyond the lines every start logs (made from the config when asked for), None
    # while there is none: thirty thousand fake containers need not each keep the same lines.
    logs: list[str] | None = None


class FakeRuntime:
    """An in-memory ContainerRuntime (entry point kube_lite.runtimes: fake)."""

    runtime_name = "fake"
    runtime_version = "0.1"

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or RealClock()
        self._ids = itertools.count(1)
        self._sandboxes: dict[str, _Sandbox] = {}
        self._containers: dict[str, _Container] = {}
        # By the io.kubernetes.pod.uid label (a pod's sandboxes and containers, oldest first).
        self._sandboxes_by_uid: dict[str, dict[str, _Sandbox]] = {}
        self._containers_by_uid: dict[str, dict[str, _Container]] = {}
        self._images: dict[str, Image] = {}  # by image id
        self._subscribers: list[Callable[[str], None]] = []
        # (ends_at, container id) of running containers with a run time; stale entries skipped.
        self._ends: list[tuple[float, str]] = []

    @classmethod
    def for_node(cls, node_name: str, *, clock: Clock | None = None, state_dir: object = None) -> FakeRuntime:
        """The runtime of node `node_name` (the plugin constructor the agent's wiring calls;
        the fake keeps nothing on disk, so `state_dir` is unused)."""
        return cls(clock)

    def _new_id(self, kind: str) -> str:
        return hashlib.sha256(f"{kind}-{next(self._ids)}-{id(self)}".encode()).hexdigest()

    # ------------------------------------------------------------------ runtime

    async def version(self) -> VersionInfo:
        return VersionInfo(self.runtime_name, self.runtime_version)

    async def status(self) -> RuntimeStatus:
        return RuntimeStatus((RuntimeCondition("RuntimeReady", True), RuntimeCondition("NetworkReady", True)))

    # ------------------------------------------------------------------ sandboxes

    async def run_pod_sandbox(self, config: PodSandboxConfig) -> str:
        sandbox_id = self._new_id("sandbox")
        sandbox = _Sandbox(sandbox_id, config, SandboxState.READY, self.clock.time())
        self._sandboxes[sandbox_id] = sandbox
        uid = sandbox.uid
        if uid is not None:
            self._sandboxes_by_uid.setdefault(uid, {})[sandbox_id] = sandbox
        self._changed(uid)
        return sandbox_id

    async def stop_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        for container in list(sandbox.containers.values()):
            self._terminate(container, SIGKILL_EXIT, "Error", "killed: sandbox stopped")
        if sandbox.state != SandboxState.NOTREADY:
            sandbox.state = SandboxState.NOTREADY
            self._changed(sandbox.uid)

    async def remove_pod_sandbox(self, sandbox_id: str) -> None:
        sandbox = self._sandboxes.get(sandbox_id)
        if sandbox is None:
            return
        await self.stop_pod_sandbox(sandbox_id)
        for container in list(sandbox.containers.values()):
            self._forget_container(container)
        del self._sandboxes[sandbox_id]
        uid = sandbox.uid
        if uid is not None:
            _discard(self._sandboxes_by_uid, uid, sandbox_id)
        self._changed(uid)

    async def pod_sandbox_status(self, sandbox_id: str) -> PodSandboxStatus:
        sandbox = self._sandbox(sandbox_id)
        return PodSandboxStatus(
            id=sandbox.id, metadata=sandbox.config.metadata, state=sandbox.state, created_at=sandbox.created_at,
            labels=dict(sandbox.config.labels), annotations=dict(sandbox.config.annotations),
        )

    async def list_pod_sandboxes(self, filter: PodSandboxFilter | None = None) -> list[PodSandbox]:
        candidates: Iterable[_Sandbox] = self._sandboxes.values()
        if filter is not None:
            if filter.id:
                found = self._sandboxes.get(filter.id)
                candidates = (found,) if found is not None else ()
            elif POD_UID_LABEL in filter.label_selector:
                candidates = (self._sandboxes_by_uid.get(filter.label_selector[POD_UID_LABEL]) or {}).values()
        out = []
        for s in candidates:
            if filter is not None and (
                (filter.id and s.id != filter.id)
                or (filter.state is not None and s.state != filter.state)
                or not matches_labels(s.config.labels, filter.label_selector)
            ):
                continue
            out.append(PodSandbox(s.id, s.config.metadata, s.state, s.created_at, dict(s.config.labels),
                                  dict(s.config.annotations)))
        return out

    def _sandbox(self, sandbox_id: str) -> _Sandbox:
        try:
            return self._sandboxes[sandbox_id]
        except KeyError:
            raise NotFoundError(f"pod sandbox {sandbox_id!r} not found") from None

    def _containers_of(self, sandbox_id: str) -> list[_Container]:
        sandbox = self._sandboxes.get(sandbox_id)
        return list(sandbox.containers.values()) if sandbox is not None else []

    def _forget_container(self, container: _Container) -> None:
        self._containers.pop(container.id, None)
        sandbox = self._sandboxes.get(container.sandbox_id)
        if sandbox is not None:
            sandbox.containers.pop(container.id, None)
        uid = container.config.labels.get(POD_UID_LABEL)
        if uid is not None:
            _discard(self._containers_by_uid, uid, container.id)
        self._changed(uid)

    # ------------------------------------------------------------------ containers

    async def create_container(self, sandbox_id: str, config: ContainerConfig, sandbox_config: PodSandboxConfig) -> str:
        sandbox = self._sandbox(sandbox_id)
        if sandbox.state != SandboxState.READY:
            raise RuntimeServiceError(f"pod sandbox {sandbox_id!r} is not ready")
        image = self._find_image(config.image)
        if image is None:
            raise RuntimeServiceError(f"image {config.image!r} not present: pull it first")
        behaviour = _behaviour(config.metadata.name, sandbox_config, config)
        container_id = self._new_id("container")
        digest = image.repo_digests[0] if image.repo_digests else image.id
        container = _Container(
            container_id, sandbox_id, config, behaviour, digest, ContainerState.CREATED, self.clock.time(),
        )
        self._containers[container_id] = container
        sandbox.containers[container_id] = container
        uid = config.labels.get(POD_UID_LABEL)
        if uid is not None:
            self._containers_by_uid.setdefault(uid, {})[container_id] = container
        self._changed(uid)
        return container_id

    async def start_container(self, container_id: str) -> None:
        container = self._container(container_id)
        if container.state != ContainerState.CREATED:
            raise RuntimeServiceError(
                f"container {container_id!r} is {container.state.name.lower()}, not created: cannot start it"
            )
        if container.behaviour.start_seconds:
            await self.clock.sleep(container.behaviour.start_seconds)
            if container.state != ContainerState.CREATED:  # removed or stopped meanwhile
                raise RuntimeServiceError(f"container {container_id!r} went away while starting")
        container.state = ContainerState.RUNNING
        container.started_at = self.clock.time()
        self._track_end(container)
        self._changed(container.config.labels.get(POD_UID_LABEL))
        self._refresh(container)

    async def stop_container(self, container_id: str, timeout: float) -> None:  # noqa: ASYNC109 - CRI's name: the SIGTERM grace
        container = self._containers.get(container_id)
        if container is None:
            return
        self._refresh(container)
        if container.state == ContainerState.CREATED:
            self._terminate(container, SIGKILL_EXIT, "Error", "stopped before it started")
            return
        if container.state != ContainerState.RUNNING:
            return
        self._log(container, "received SIGTERM")
        timeout = max(float(timeout), 0.0)
        wait = min(container.behaviour.stop_seconds, timeout)
        if wait > 0:
            await self.clock.sleep(wait)
            self._refresh(container)
            if container.state != ContainerState.RUNNING:
                return  # it ended on its own (or was killed) meanwhile
        if container.behaviour.stop_seconds <= timeout:
            self._terminate(container, SIGTERM_EXIT, "Error", "exited on SIGTERM")
        else:
            self._terminate(container, SIGKILL_EXIT, "Error", f"killed (SIGKILL) after {timeout:g}s grace")

    async def remove_container(self, container_id: str) -> None:
        container = self._containers.get(container_id)
        if container is None:
            return
        self._forget_container(container)
        if container.state in (ContainerState.RUNNING, ContainerState.CREATED):
            self._terminate(container, SIGKILL_EXIT, "Error", "killed: removed")

    async def container_status(self, container_id: str) -> ContainerStatus:
        container = self._container(container_id)
        self._refresh(container)
        image = self._find_image(container.config.image)
        return ContainerStatus(
            id=container.id,
            metadata=container.config.metadata,
            state=container.state,
            created_at=container.created_at,
            started_at=container.started_at,
            finished_at=container.finished_at,
            exit_code=container.exit_code,
            image=image.repo_tags[0] if image and image.repo_tags else container.config.image,
            image_ref=container.image_ref,
            reason=container.reason,
            labels=dict(container.config.labels),
            annotations=dict(container.config.annotations),
            log_path=container.config.log_path,
        )

    async def list_containers(self, filter: ContainerFilter | None = None) -> list[Container]:
        candidates: Iterable[_Container] = self._containers.values()
        if filter is not None:
            if filter.id:
                found = self._containers.get(filter.id)
                candidates = (found,) if found is not None else ()
            elif filter.pod_sandbox_id:
                sandbox = self._sandboxes.get(filter.pod_sandbox_id)
                candidates = sandbox.containers.values() if sandbox is not None else ()
            elif POD_UID_LABEL in filter.label_selector:
                candidates = (self._containers_by_uid.get(filter.label_selector[POD_UID_LABEL]) or {}).values()
        out = []
        for c in candidates:
            self._refresh(c)
            if filter is not None and (
                (filter.id and c.id != filter.id)
                or (filter.state is not None and c.state != filter.state)
                or (filter.pod_sandbox_id and c.sandbox_id != filter.pod_sandbox_id)
                or not matches_labels(c.config.labels, filter.label_selector)
            ):
                continue
            out.append(Container(c.id, c.sandbox_id, c.config.metadata, c.config.image, c.image_ref, c.state,
                                 c.created_at, dict(c.config.labels), dict(c.config.annotations)))
        return out

    async def container_logs(self, container_id: str, *, tail_lines: int | None = None) -> list[str]:
        container = self._container(container_id)
        self._refresh(container)
        lines = self._lines(container)
        if tail_lines is not None:
            lines = lines[-tail_lines:] if tail_lines > 0 else []
        return lines

    def _container(self, container_id: str) -> _Container:
        try:
            return self._containers[container_id]
        except KeyError:
            raise NotFoundError(f"container {container_id!r} not found") from None

    def _refresh(self, container: _Container) -> None:
        """Let an expired run time end the container, at the moment it expired."""
        run = container.behaviour.run_seconds
        if container.state != ContainerState.RUNNING or run is None:
            return
        ends_at = container.started_at + run
        if self.clock.time() >= ends_at:
            code = container.behaviour.exit_code
            self._finish(container, code, "Completed" if code == 0 else "Error", f"exited with code {code}", ends_at)

    def _terminate(self, container: _Container, code: int, reason: str, line: str) -> None:
        """End the container now, unless it has ended already (or its run time expired first)."""
        self._refresh(container)
        if container.state in (ContainerState.EXITED, ContainerState.UNKNOWN):
            return
        self._finish(container, code, reason, line, self.clock.time())

    def _finish(self, container: _Container, code: int, reason: str, line: str, at: float) -> None:
        container.state = ContainerState.EXITED
        container.exit_code = code
        container.reason = reason
        container.finished_at = at
        self._log(container, line)
        self._changed(container.config.labels.get(POD_UID_LABEL))

    def _log(self, container: _Container, line: str) -> None:
        if container.logs is None:
            container.logs = self._lines(container)
        container.logs.append(line)

    @staticmethod
    def _lines(container: _Container) -> list[str]:
        """The container's output so far (a new list)."""
        if container.logs is not None:
            return list(container.logs)
        if not container.started_at:
            return []
        config, behaviour = container.config, container.behaviour
        command = " ".join([*config.command, *config.args]) or "(image entrypoint)"
        if behaviour.run_seconds is None:
            plan = "running until stopped"
        else:
            plan = f"will exit with code {behaviour.exit_code} after {behaviour.run_seconds:g}s"
        return [f"fake container {config.metadata.name} started from {config.image}", f"command: {command}", plan]

    # ------------------------------------------------------------------ images

    async def pull_image(self, image: str) -> str:
        existing = self._find_image(image)
        if existing is not None:
            return existing.id
        ref = normalize_image(image)
        if "@" in ref:  # pulled by digest: known by that digest only
            tags: tuple[str, ...] = ()
            digests = (ref,)
        else:
            repo = ref.rsplit(":", 1)[0]
            tags = (ref,)
            digests = (f"{repo}@sha256:{hashlib.sha256(ref.encode()).hexdigest()}",)
        image_id = "sha256:" + hashlib.sha256(f"id:{ref}".encode()).hexdigest()
        self._images[image_id] = Image(image_id, tags, digests, FAKE_IMAGE_SIZE)
        return image_id

    async def list_images(self) -> list[Image]:
        return list(self._images.values())

    async def image_status(self, image: str) -> Image | None:
        return self._find_image(image)

    async def remove_image(self, image: str) -> None:
        found = self._find_image(image)
        if found is not None:
            del self._images[found.id]

    def _find_image(self, image: str) -> Image | None:
        if image in self._images:
            return self._images[image]
        ref = normalize_image(image)
        for candidate in self._images.values():
            if ref in candidate.repo_tags or ref in candidate.repo_digests:
                return candidate
        return None

    # ------------------------------------------------------------------ test helpers

    def kill_sandbox(self, sandbox_id: str) -> None:
        """Make a sandbox die under the agent's feet (its containers with it), as a crashed
        runtime shim would."""
        sandbox = self._sandbox(sandbox_id)
        for container in self._containers_of(sandbox_id):
            self._terminate(container, SIGKILL_EXIT, "Error", "killed: sandbox died")
        if sandbox.state != SandboxState.NOTREADY:
            sandbox.state = SandboxState.NOTREADY
            self._changed(sandbox.uid)

    def replace_behaviour(self, container_id: str, **changes: float) -> None:
        """Change a container's behaviour (run_seconds, exit_code, ...) after creation."""
        container = self._container(container_id)
        if container.logs is None:
            container.logs = self._lines(container)  # the start lines say what it was started as
        container.behaviour = replace(container.behaviour, **changes)  # type: ignore[arg-type]
        self._track_end(container)
        self._changed(container.config.labels.get(POD_UID_LABEL))  # subscribers re-read next_transition
        self._refresh(container)

    # ------------------------------------------------------------------ events

    def subscribe_events(self, on_change: Callable[[str], None]) -> None:
        """Call `on_change(pod_uid)` for every change of a pod's sandboxes and containers."""
        self._subscribers.append(on_change)

    def unsubscribe_events(self, on_change: Callable[[str], None]) -> None:
        if on_change in self._subscribers:
            self._subscribers = [s for s in self._subscribers if s != on_change]

    def next_transition(self) -> float | None:
        """When the next running container's run time ends (wall clock), or None."""
        ends = self._ends
        while ends:
            ends_at, container_id = ends[0]
            container = self._containers.get(container_id)
            if container is not None and self._end_of(container) == ends_at:
                return ends_at
            heapq.heappop(ends)  # gone, ended, or its run time changed since
        return None

    def expire_due(self) -> None:
        """End (and report) the containers whose run time is over."""
        now = self.clock.time()
        ends = self._ends
        while ends and ends[0][0] <= now:
            _, container_id = heapq.heappop(ends)
            container = self._containers.get(container_id)
            if container is not None:
                self._refresh(container)

    def _changed(self, uid: str | None) -> None:
        if uid is not None:
            for on_change in self._subscribers:
                on_change(uid)

    @staticmethod
    def _end_of(container: _Container) -> float | None:
        run = container.behaviour.run_seconds
        if container.state != ContainerState.RUNNING or run is None:
            return None
        return container.started_at + run

    def _track_end(self, container: _Container) -> None:
        ends_at = self._end_of(container)
        if ends_at is not None:
            heapq.heappush(self._ends, (ends_at, container.id))


def _discard(index: dict[str, dict[str, Any]], key: str, item_id: str) -> None:
    """Drop `item_id` from `index[key]`, and the key once it holds nothing."""
    items = index.get(key)
    if items is not None:
        items.pop(item_id, None)
        if not items:
            del index[key]
