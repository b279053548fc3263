"""The pod worker: one task per pod, driving the runtime towards the pod's spec.

A worker goes through three states, as the kubelet's pod workers do:

    SYNCING      sandbox and network, init containers one at a time (each must exit 0 before
                 the next starts), then the containers; exited containers restarted as the
                 restart policy says, after CrashLoopBackOff; the status published after every
                 sync. Leaves when the pod is being deleted (deletionTimestamp), is gone from
                 the API or its manifest, or has reached a terminal phase.
    TERMINATING  containers stopped in parallel with the pod's grace period (its
                 deletionGracePeriodSeconds, else terminationGracePeriodSeconds, at least 2 s),
                 the sandbox stopped and the pod's IP released; the final status published.
    TERMINATED   a deleted pod: once the final status is written, the pod is deleted with
                 grace period 0 (as the kubelet does, so it leaves Terminating), its sandbox and
                 containers removed, and the worker ends when the API's DELETED event arrives.
                 A pod that finished on its own stays, its exited containers kept (for logs),
                 until it is deleted.

The worker wakes on every pod update, on the agent's PLEG events for its pod (the runtime's own
events, or the node's runtime relisted every second: a container that started, exited or went
away, a sandbox that died) and
when a back-off ends; every second while a start or pull failed (and for static pods, whose
mirror pods it keeps); otherwise at its periodic resync (`RESYNC_SECONDS`, the kubelet's
syncFrequency). A sync lists only its own pod's containers. The decisions of a sync are a pure
function (`compute_actions`) of the spec, the runtime view and the back-off state.

A worker has no task of its own: `PodWorkers` (one per agent) gives each woken or due worker a
turn, a short-lived task that runs one step of the loop above. A parked worker is an entry in the
agent's heap of deadlines (`timers.Timers`), so a thousand nodes of a hundred pods each cost no
hundred thousand parked tasks, coroutine frames, events and timers.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio
import structlog

from kube_lite.agent import cri
from kube_lite.agent.backoff import BackOff, go_duration
from kube_lite.agent.cni import CNIError, NetworkPlugin, PodNetworkInfo
from kube_lite.agent.podstatus import TERMINAL_PHASES, ContainerView, PodView, generate_pod_status
from kube_lite.agent.timers import Timers
from kube_lite.api.errors import APIError
from kube_lite.client.events import NORMAL, WARNING, EventRecorder

if TYPE_CHECKING:
    from anyio.abc import TaskGroup

    from kube_lite.agent.statusmanager import StatusManager
    from kube_lite.client.client import Client
    from kube_lite.clock import Clock

log = structlog.get_logger(__name__)

RELIST_SECONDS = 1.0  # retry period while something failed
RESYNC_SECONDS = 60.0  # periodic sync of a pod with nothing to do (the kubelet's syncFrequency)
MIN_GRACE_SECONDS = 2
DEFAULT_GRACE_SECONDS = 30
SANDBOX_RETRY_MAX = 60.0
POD_INTERFACE = "eth0"
RESTART_COUNT_ANNOTATION = "io.kubernetes.container.restartCount"


_LIVE_STATES = (cri.ContainerState.RUNNING, cri.ContainerState.CREATED)
# Handed to compute_actions when no container has ended: it then never consults a back-off.
_UNUSED_BACKOFF = BackOff()


class WorkerState(enum.Enum):
    SYNCING = "syncing"
    TERMINATING = "terminating"
    TERMINATED = "terminated"


@dataclass
class PodWorkerContext:
    """What a pod worker needs of its agent."""

    client: Client
    runtime: cri.ContainerRuntime
    network: NetworkPlugin
    clock: Clock
    status: StatusManager
    recorder: EventRecorder
    node_name: str
    host_ips: list[str]
    log_root: str = "/var/log/pods"
    runtime_name: str = "fake"
    # Static pods: keep the mirror pod in step (called after every sync) and remove it.
    ensure_mirror: Callable[[PodWorker], Awaitable[None]] | None = None
    delete_mirror: Callable[[PodWorker], Awaitable[None]] | None = None
    # Who gives the workers their turns (set by the agent).
    turns: PodWorkers | None = None


def pod_full_name(pod: dict[str, Any]) -> str:
    """"name_namespace", the kubelet's key for a pod across uids."""
    meta = pod.get("metadata") or {}
    return f"{meta.get('name')}_{meta.get('namespace') or 'default'}"


def format_pod(pod: dict[str, Any]) -> str:
    """"name_namespace(uid)", as the kubelet names a pod in messages."""
    return f"{pod_full_name(pod)}({(pod.get('metadata') or {}).get('uid', '')})"


def should_restart(restart_policy: str, exit_code: int) -> bool:
    if restart_policy == "Always":
        return True
    if restart_policy == "OnFailure":
        return exit_code != 0
    return False


# --------------------------------------------------------------------------------------------
# Decisions (sans-IO)


@dataclass
class Instance:
    """One runtime container of the pod, with its sandbox."""

    status: cri.ContainerStatus
    sandbox_id: str


@dataclass
class Actions:
    """What one sync does: start these containers (in order, with these attempts), show these
    containers as waiting (reason, message), and wake again after `wake_after` seconds."""

    start: list[tuple[dict[str, Any], int]] = field(default_factory=list)
    waiting: dict[str, tuple[str, str]] = field(default_factory=dict)
    wake_after: float | None = None


def compute_actions(
    pod: dict[str, Any], instances: dict[str, list[Instance]], sandbox_id: str, backoff: BackOff, now: float,
) -> Actions:
    """Decide one sync (see the module doc). `instances` maps container names to their runtime
    containers, oldest first; `backoff` is advanced for every restart decided (a restart is
    decided once: the caller starts it at once)."""
    spec = pod.get("spec") or {}
    policy = spec.get("restartPolicy") or "Always"
    actions = Actions()

    def latest(name: str) -> Instance | None:
        found = instances.get(name)
        return found[-1] if found else None

    def next_attempt(name: str) -> int:
        found = instances.get(name)
        return found[-1].status.metadata.attempt + 1 if found else 0

    def restart(container: dict[str, Any], inst: Instance) -> None:
        name = container["name"]
        finished = inst.status.finished_at or now
        if backoff.in_backoff_since(name, finished, now):
            delay = backoff.get(name)
            message = f"back-off {go_duration(delay)} restarting failed container={name} pod={format_pod(pod)}"
            actions.waiting[name] = ("CrashLoopBackOff", message)
            remaining = backoff.remaining(name, finished, now)
            actions.wake_after = remaining if actions.wake_after is None else min(actions.wake_after, remaining)
            return
        backoff.next(name, finished)
        actions.start.append((container, next_attempt(name)))

    for container in spec.get("initContainers") or []:
        name = container["name"]
        inst = latest(name)
        if inst is None or inst.sandbox_id != sandbox_id:
            # Never run, or run in a sandbox that has died: init containers run again.
            actions.start.append((container, next_attempt(name)))
            return actions
        state = inst.status.state
        if state in (cri.ContainerState.RUNNING, cri.ContainerState.CREATED):
            return actions
        if inst.status.exit_code == 0 and state == cri.ContainerState.EXITED:
            continue
        if policy != "Never":
            restart(container, inst)
        return actions

    for container in spec.get("containers") or []:
        name = container["name"]
        inst = latest(name)
        if inst is None:
            actions.start.append((container, 0))
            continue
        state = inst.status.state
        if state in (cri.ContainerState.RUNNING, cri.ContainerState.CREATED):
            continue
        if not should_restart(policy, inst.status.exit_code):
            continue
        if inst.sandbox_id != sandbox_id:
            # Ended with a sandbox that has died: started in the new one, without back-off.
            actions.start.append((container, next_attempt(name)))
        else:
            restart(container, inst)
    return actions


# --------------------------------------------------------------------------------------------
# The worker


class PodWorker:
    """Runs one pod; see the module doc. The agent calls `update` and `remove`; `PodWorkers`
    calls `step`.

    A node runs up to a hundred of these and a process may run a thousand nodes: a worker keeps
    the pod as the agent's cache holds it (no copy) and little else (slots; the back-off, the
    waiting reasons and the bound logger are made on first need)."""

    __slots__ = (
        "ctx", "pod", "uid", "namespace", "name", "static", "state", "removed", "finished", "sandbox_id",
        "sandbox_attempt", "sandbox_netns", "pod_ips", "_backoff", "_sandbox_failures", "_waiting",
        "_sync_scope", "_first_sync", "_deleted_in_api", "_terminating_for_deletion", "_bound_log",
        # Scheduling, kept by PodWorkers: started (has had or is owed a turn), woken since its turn
        # began, queued for a turn, in a turn, parked (and until when, monotonic; None: until woken).
        "_started", "_woken", "_queued", "_running", "_parked", "_due",
    )

    def __init__(self, ctx: PodWorkerContext, pod: dict[str, Any], *, static: bool = False) -> None:
        self.ctx = ctx
        self.pod = pod
        meta = pod["metadata"]
        self.uid: str = meta["uid"]
        self.namespace: str = meta.get("namespace") or "default"
        self.name: str = meta["name"]
        self.static = static
        self.state = WorkerState.SYNCING
        self.removed = False  # gone from the API, or its manifest gone
        self.finished = False  # the worker is done: the pod is gone and cleaned up
        self.sandbox_id: str | None = None
        self.sandbox_attempt = -1
        self.sandbox_netns = ""
        self.pod_ips: list[str] = []
        self._backoff: BackOff | None = None
        self._sandbox_failures = 0
        self._waiting: dict[str, tuple[str, str]] = {}
        self._started = False
        self._woken = False
        self._queued = False
        self._running = False
        self._parked = False
        self._due: float | None = None
        self._sync_scope: anyio.CancelScope | None = None
        self._first_sync = True
        self._deleted_in_api = False  # we sent the final grace-0 delete
        self._terminating_for_deletion = False
        self._bound_log: Any = None

    @property
    def full_name(self) -> str:
        """"name_namespace", the kubelet's key for a pod across uids."""
        return f"{self.name}_{self.namespace}"

    @property
    def backoff(self) -> BackOff:
        """The CrashLoopBackOff state of the pod's containers."""
        if self._backoff is None:
            self._backoff = BackOff()
        return self._backoff

    @property
    def _log(self) -> Any:
        if self._bound_log is None:
            self._bound_log = log.bind(pod=f"{self.namespace}/{self.name}", uid=self.uid)
        return self._bound_log

    # ------------------------------------------------------------------ the agent's side

    @property
    def deleting(self) -> bool:
        """Whether the pod is to be torn down: deleted in the API, or removed."""
        return self.removed or bool((self.pod.get("metadata") or {}).get("deletionTimestamp"))

    def update(self, pod: dict[str, Any]) -> None:
        """A newer version of the pod (same uid)."""
        self.pod = pod
        self._interrupt_if_deleting()
        self.wake()

    def remove(self) -> None:
        """The pod is gone from its source (API DELETED event, manifest removed)."""
        self.removed = True
        self._interrupt_if_deleting()
        self.wake()

    def wake(self) -> None:
        """Give the worker a turn soon (after the current one, if it is in one)."""
        self._woken = True
        if self._started and self.ctx.turns is not None:
            self.ctx.turns.queue(self)

    @property
    def started(self) -> bool:
        """Whether the worker has had (or is owed) its first turn."""
        return self._started

    @property
    def parked(self) -> bool:
        """Waiting for a pod update or its next periodic check, with nothing to do now."""
        return self._parked and not self._woken

    def _interrupt_if_deleting(self) -> None:
        # A sync blocked in the runtime (a slow start) must not delay the termination.
        if self.deleting and self.state == WorkerState.SYNCING and self._sync_scope is not None:
            self._sync_scope.cancel()

    # ------------------------------------------------------------------ the loop

    async def step(self) -> float | None:
        """One turn of the worker's loop: sync, terminate or clean up, as its state says.
        Returns the seconds until the next turn is due (None: only when woken); sets `finished`
        once the pod is gone. Never raises but for cancellation (errors are logged and retried)."""
        delay: float | None = RELIST_SECONDS
        try:
            if self.state == WorkerState.SYNCING:
                if self.deleting:
                    self.state = WorkerState.TERMINATING
                else:
                    try:
                        with anyio.CancelScope() as scope:
                            self._sync_scope = scope
                            delay = await self._sync_pod()
                    finally:
                        self._sync_scope = None
            if self.state == WorkerState.TERMINATING:
                await self._terminate_pod()
                self.state = WorkerState.TERMINATED
            if self.state == WorkerState.TERMINATED:
                if await self._sync_terminated():
                    self.finished = True
                    return None
                delay = None if not self.static else 10.0
        except Exception:  # noqa: BLE001 - a failed sync is retried, never fatal
            self._log.exception("pod sync failed")
            delay = 5.0
        return delay

    # ------------------------------------------------------------------ SYNCING

    async def _sync_pod(self) -> float | None:
        pod = self.pod
        now = self.ctx.clock.time()
        if self._first_sync:
            self._first_sync = False
            phase = (pod.get("status") or {}).get("phase")
            if phase in TERMINAL_PHASES and not await self._runtime_containers():
                # Finished before this agent saw it (an agent restart): nothing to run or report.
                self.state = WorkerState.TERMINATED
                return None
        try:
            await self._ensure_sandbox()
        except Exception as exc:  # noqa: BLE001 - reported on the pod and retried
            self._sandbox_failures += 1
            message = f"Failed to create pod sandbox: {exc}"
            self._log.warning("sandbox failed", error=str(exc))
            self.event(WARNING, "FailedCreatePodSandBox", message)
            self._publish(await self._view(sandbox_ready=False))
            return min(2.0 ** self._sandbox_failures, SANDBOX_RETRY_MAX)
        self._sandbox_failures = 0
        instances = await self._instances()
        # Only an ended container is ever restarted (and backs off): a pod whose containers all
        # run needs no BackOff of its own (thirty thousand of them would be megabytes).
        ended = self._backoff is not None or any(
            found[-1].status.state not in _LIVE_STATES for found in instances.values()
        )
        actions = compute_actions(pod, instances, self.sandbox_id or "", self.backoff if ended else _UNUSED_BACKOFF, now)
        # CrashLoopBackOff is this sync's verdict; start failures stay until a start succeeds.
        previous = self._waiting
        self._waiting = {k: v for k, v in previous.items() if v[0] != "CrashLoopBackOff"}
        for name in actions.waiting:
            if previous.get(name, ("",))[0] != "CrashLoopBackOff":
                self.event(WARNING, "BackOff", f"Back-off restarting failed container {name} in pod {format_pod(pod)}")
        self._waiting.update(actions.waiting)
        if actions.start:
            self._publish(await self._view())  # show ContainerCreating / podIP before slow starts
        for container, attempt in actions.start:
            if not await self._start_container(container, attempt):
                break  # init containers are sequential; a failed start is retried next sync
        # Nothing started: the runtime is as listed above (a sync lists its pod once).
        view = await self._view(instances=None if actions.start else instances)
        status = self._publish(view)
        if self.static and self.ctx.ensure_mirror is not None:
            await self.ctx.ensure_mirror(self)
        if status.get("phase") in TERMINAL_PHASES:
            self.state = WorkerState.TERMINATING
            return 0
        # What the runtime does next (a container exits, a sandbox dies) comes as a PLEG event;
        # failed pulls and starts are retried every second, as the worker's own relist did.
        failing = any(reason != "CrashLoopBackOff" for reason, _ in self._waiting.values())
        delay = RELIST_SECONDS if failing or self.static else RESYNC_SECONDS
        if actions.wake_after is not None:
            delay = min(delay, max(actions.wake_after, 0.0))
        return delay

    async def _runtime_containers(self) -> list[cri.Container]:
        return await self.ctx.runtime.list_containers(
            cri.ContainerFilter(label_selector={cri.POD_UID_LABEL: self.uid})
        )

    async def _ensure_sandbox(self) -> None:
        runtime = self.ctx.runtime
        if self.sandbox_id is not None:
            try:
                status = await runtime.pod_sandbox_status(self.sandbox_id)
            except cri.NotFoundError:
                status = None
            if status is not None and status.state == cri.SandboxState.READY:
                return
            self._log.info("sandbox died; re-creating it", sandbox=self.sandbox_id)
            self.event(NORMAL, "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.")
            await self._teardown_network()
            await runtime.stop_pod_sandbox(self.sandbox_id)
            self.sandbox_id = None
        else:
            adopted = await self._adopt_sandbox()
            if adopted:
                return
        config = self.sandbox_config(self.sandbox_attempt + 1)
        sandbox_id = await runtime.run_pod_sandbox(config)
        self.sandbox_attempt += 1
        status = await runtime.pod_sandbox_status(sandbox_id)
        try:
            if self.host_network:
                self.pod_ips = list(self.ctx.host_ips)
            else:
                result = await self.ctx.network.add(sandbox_id, status.netns, POD_INTERFACE, self._network_info())
                self.pod_ips = result.pod_ips()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await runtime.stop_pod_sandbox(sandbox_id)
                await runtime.remove_pod_sandbox(sandbox_id)
            raise
        self.sandbox_id = sandbox_id
        self.sandbox_netns = status.netns

    async def _adopt_sandbox(self) -> bool:
        """Take over a ready sandbox of this pod left by a previous agent process."""
        sandboxes = await self.ctx.runtime.list_pod_sandboxes(
            cri.PodSandboxFilter(label_selector={cri.POD_UID_LABEL: self.uid})
        )
        for sandbox in sandboxes:
            self.sandbox_attempt = max(self.sandbox_attempt, sandbox.metadata.attempt)
        ready = [s for s in sandboxes if s.state == cri.SandboxState.READY]
        if not ready:
            return False
        sandbox = ready[-1]
        status = await self.ctx.runtime.pod_sandbox_status(sandbox.id)
        ips = [status.network.ip, *status.network.additional_ips] if status.network.ip else []
        if not ips:
            ips = [p.get("ip") for p in (self.pod.get("status") or {}).get("podIPs") or [] if p.get("ip")]
        self.sandbox_id, self.sandbox_netns, self.pod_ips = sandbox.id, status.netns, ips
        self._log.info("adopted running sandbox", sandbox=sandbox.id)
        return True

    async def _teardown_network(self) -> None:
        if self.sandbox_id is None or self.host_network:
            return
        try:
            await self.ctx.network.delete(self.sandbox_id, self.sandbox_netns, POD_INTERFACE, self._network_info())
        except CNIError as exc:
            self._log.warning("network teardown failed", error=str(exc))

    @property
    def host_network(self) -> bool:
        return bool((self.pod.get("spec") or {}).get("hostNetwork"))

    def _network_info(self) -> PodNetworkInfo:
        return PodNetworkInfo(self.namespace, self.name, self.uid)

    def sandbox_config(self, attempt: int) -> cri.PodSandboxConfig:
        meta = self.pod.get("metadata") or {}
        spec = self.pod.get("spec") or {}
        labels = {
            **(meta.get("labels") or {}),
            cri.POD_NAME_LABEL: self.name,
            cri.POD_NAMESPACE_LABEL: self.namespace,
            cri.POD_UID_LABEL: self.uid,
        }
        ports = tuple(
            cri.PortMapping(int(p["containerPort"]), int(p.get("hostPort") or 0), p.get("protocol") or "TCP",
                            p.get("hostIP") or "")
            for c in spec.get("containers") or [] for p in c.get("ports") or [] if p.get("hostPort")
        )
        return cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(self.name, self.namespace, self.uid, attempt),
            hostname=(spec.get("hostname") or self.name)[:63],
            log_directory=f"{self.ctx.log_root}/{self.namespace}_{self.name}_{self.uid}",
            labels=labels,
            annotations=dict(meta.get("annotations") or {}),
            port_mappings=ports,
            host_network=self.host_network,
        )

    def container_config(self, container: dict[str, Any], attempt: int) -> cri.ContainerConfig:
        name = container["name"]
        envs = []
        for env in container.get("env") or []:
            if "value" in env:
                envs.append((env["name"], str(env.get("value") or "")))
            elif (env.get("valueFrom") or {}).get("fieldRef"):
                value = self._field_ref(env["valueFrom"]["fieldRef"].get("fieldPath", ""))
                if value is not None:
                    envs.append((env["name"], value))
        return cri.ContainerConfig(
            metadata=cri.ContainerMetadata(name, attempt),
            image=container.get("image", ""),
            command=tuple(container.get("command") or ()),
            args=tuple(container.get("args") or ()),
            working_dir=container.get("workingDir") or "",
            envs=tuple(envs),
            labels={
                cri.CONTAINER_NAME_LABEL: name,
                cri.POD_NAME_LABEL: self.name,
                cri.POD_NAMESPACE_LABEL: self.namespace,
                cri.POD_UID_LABEL: self.uid,
            },
            annotations={RESTART_COUNT_ANNOTATION: str(attempt)},
            log_path=f"{name}/{attempt}.log",
            stdin=bool(container.get("stdin")),
            tty=bool(container.get("tty")),
        )

    def _field_ref(self, path: str) -> str | None:
        meta = self.pod.get("metadata") or {}
        values = {
            "metadata.name": self.name,
            "metadata.namespace": self.namespace,
            "metadata.uid": self.uid,
            "spec.nodeName": self.ctx.node_name,
            "spec.serviceAccountName": (self.pod.get("spec") or {}).get("serviceAccountName") or "",
            "status.hostIP": self.ctx.host_ips[0] if self.ctx.host_ips else "",
            "status.hostIPs": ",".join(self.ctx.host_ips),
            "status.podIP": self.pod_ips[0] if self.pod_ips else "",
            "status.podIPs": ",".join(self.pod_ips),
        }
        if path in values:
            return values[path]
        for prefix, source in (("metadata.labels", "labels"), ("metadata.annotations", "annotations")):
            if path.startswith(prefix + "['") and path.endswith("']"):
                return (meta.get(source) or {}).get(path[len(prefix) + 2:-2], "")
        return None

    async def _start_container(self, container: dict[str, Any], attempt: int) -> bool:
        """Pull, create and start one container; on failure show why (waiting reason) and
        return False."""
        runtime = self.ctx.runtime
        name = container["name"]
        image = container.get("image", "")
        policy = container.get("imagePullPolicy") or "IfNotPresent"
        assert self.sandbox_id is not None
        try:
            present = await runtime.image_status(image)
            if policy == "Never" and present is None:
                message = f'Container image "{image}" is not present with pull policy of Never'
                self._waiting[name] = ("ErrImageNeverPull", message)
                self.event(WARNING, "ErrImageNeverPull", message)
                return False
            if policy == "Always" or present is None:
                self.event(NORMAL, "Pulling", f'Pulling image "{image}"')
                started = self.ctx.clock.monotonic()
                await runtime.pull_image(image)
                took = go_duration(round(self.ctx.clock.monotonic() - started, 3))
                pulled = await runtime.image_status(image)
                size = pulled.size if pulled else 0
                self.event(NORMAL, "Pulled", f'Successfully pulled image "{image}" in {took} '
                                             f"({took} including waiting). Image size: {size} bytes.")
            else:
                self.event(NORMAL, "Pulled", f'Container image "{image}" already present on machine')
        except cri.RuntimeServiceError as exc:
            self._waiting[name] = ("ErrImagePull", str(exc))
            self.event(WARNING, "Failed", f'Failed to pull image "{image}": {exc}')
            return False
        config = self.container_config(container, attempt)
        try:
            container_id = await runtime.create_container(self.sandbox_id, config, self.sandbox_config(self.sandbox_attempt))
        except cri.RuntimeServiceError as exc:
            self._waiting[name] = ("CreateContainerError", str(exc))
            self.event(WARNING, "Failed", f"Error: {exc}")
            return False
        self.event(NORMAL, "Created", f"Created container: {name}")
        try:
            await runtime.start_container(container_id)
        except cri.RuntimeServiceError as exc:
            self._waiting[name] = ("RunContainerError", str(exc))
            self.event(WARNING, "Failed", f"Error: {exc}")
            return False
        self._waiting.pop(name, None)
        self.event(NORMAL, "Started", f"Started container {name}")
        await self._prune(name)
        return True

    async def _prune(self, name: str) -> None:
        """Keep the two latest instances of a container (current and previous, for lastState
        and `logs --previous`); remove older exited ones."""
        instances = [
            c for c in await self._runtime_containers() if c.labels.get(cri.CONTAINER_NAME_LABEL) == name
        ]
        instances.sort(key=lambda c: (c.metadata.attempt, c.created_at))
        for old in instances[:-2]:
            if old.state == cri.ContainerState.EXITED:
                await self.ctx.runtime.remove_container(old.id)

    async def _instances(self) -> dict[str, list[Instance]]:
        out: dict[str, list[Instance]] = {}
        for c in await self._runtime_containers():
            name = c.labels.get(cri.CONTAINER_NAME_LABEL) or c.metadata.name
            try:
                status = await self.ctx.runtime.container_status(c.id)
            except cri.NotFoundError:
                continue
            out.setdefault(name, []).append(Instance(status, c.pod_sandbox_id))
        for found in out.values():
            found.sort(key=lambda i: (i.status.metadata.attempt, i.status.created_at))
        return out

    async def _view(self, *, sandbox_ready: bool | None = None, terminating: bool = False,
                    instances: dict[str, list[Instance]] | None = None) -> PodView:
        if instances is None:
            instances = await self._instances()
        containers: dict[str, ContainerView] = {}
        for name, found in instances.items():
            current = found[-1].status
            containers[name] = ContainerView(
                current=current,
                previous=found[-2].status if len(found) > 1 else None,
                restart_count=current.metadata.attempt,
                waiting=self._waiting.get(name),
            )
        for name, waiting in self._waiting.items():
            containers.setdefault(name, ContainerView(waiting=waiting))
        if sandbox_ready is None:
            sandbox_ready = self.sandbox_id is not None and self.state == WorkerState.SYNCING
        return PodView(
            containers=containers,
            sandbox_ready=sandbox_ready,
            pod_ips=list(self.pod_ips),
            host_ips=list(self.ctx.host_ips),
            runtime_name=self.ctx.runtime_name,
            terminating=terminating,
        )

    def _publish(self, view: PodView) -> dict[str, Any]:
        # The status this agent generated last (as the kubelet's status manager keeps it) carries
        # startTime and the conditions' transition times while the API's copy lags behind.
        previous = self.ctx.status.status_of(self.uid)
        status = generate_pod_status(self.pod, view, self.ctx.clock.time(), previous=previous)
        self.ctx.status.set_status(self.uid, self.namespace, self.name, status, uid=None if self.static else self.uid)
        return status

    # ------------------------------------------------------------------ TERMINATING

    def grace_period(self) -> int:
        meta = self.pod.get("metadata") or {}
        spec = self.pod.get("spec") or {}
        grace: Any = None
        if meta.get("deletionTimestamp") and meta.get("deletionGracePeriodSeconds") is not None:
            grace = meta["deletionGracePeriodSeconds"]
        if grace is None:
            grace = spec.get("terminationGracePeriodSeconds")
        if grace is None:
            grace = DEFAULT_GRACE_SECONDS
        return max(int(grace), MIN_GRACE_SECONDS)

    async def _terminate_pod(self) -> None:
        deleting = self.deleting
        runtime = self.ctx.runtime
        grace = self.grace_period()
        containers = await self._runtime_containers()
        running = [c for c in containers if c.state in (cri.ContainerState.RUNNING, cri.ContainerState.CREATED)]
        if running:
            self._log.info("stopping containers", count=len(running), grace=grace)

            async def stop(c: cri.Container) -> None:
                name = c.labels.get(cri.CONTAINER_NAME_LABEL) or c.metadata.name
                self.event(NORMAL, "Killing", f"Stopping container {name}")
                try:
                    await runtime.stop_container(c.id, grace)
                except cri.RuntimeServiceError as exc:
                    self._log.warning("stopping container failed", container=name, error=str(exc))

            async with anyio.create_task_group() as tg:
                for c in running:
                    tg.start_soon(stop, c)
        # Nothing backs off any more: the containers show how they ended.
        self._waiting = {k: v for k, v in self._waiting.items() if v[0] != "CrashLoopBackOff"}
        if self.sandbox_id is not None:
            await self._teardown_network()
            await runtime.stop_pod_sandbox(self.sandbox_id)
        self._terminating_for_deletion = deleting
        if not self.removed or self.static:
            self._publish(await self._view(sandbox_ready=False, terminating=deleting))

    # ------------------------------------------------------------------ TERMINATED

    async def _sync_terminated(self) -> bool:
        """True when the worker is finished."""
        if self.static:
            if self.removed:
                await self._cleanup_runtime()
                if self.ctx.delete_mirror is not None:
                    await self.ctx.delete_mirror(self)
                self.ctx.status.forget(self.uid)
                return True
            if self.ctx.ensure_mirror is not None:
                await self.ctx.ensure_mirror(self)
            return False
        if self.removed:
            await self._cleanup_runtime()
            self.ctx.status.forget(self.uid)
            return True
        if (self.pod.get("metadata") or {}).get("deletionTimestamp") and not self._deleted_in_api:
            await self.ctx.status.flush(self.uid)
            try:
                await self.ctx.client.delete(
                    "pods", self.name, namespace=self.namespace, grace_period_seconds=0,
                    preconditions={"uid": self.uid},
                )
            except APIError as exc:
                if exc.code not in (404, 409):
                    raise
            self._deleted_in_api = True
            await self._cleanup_runtime()
        return False

    async def _cleanup_runtime(self) -> None:
        """Remove every sandbox (and so every container) of the pod from the runtime."""
        sandboxes = await self.ctx.runtime.list_pod_sandboxes(
            cri.PodSandboxFilter(label_selector={cri.POD_UID_LABEL: self.uid})
        )
        for sandbox in sandboxes:
            await self.ctx.runtime.remove_pod_sandbox(sandbox.id)
        for c in await self._runtime_containers():
            await self.ctx.runtime.remove_container(c.id)

    # ------------------------------------------------------------------ logs and events

    async def container_id(self, container: str, *, previous: bool = False) -> str | None:
        """The runtime id of `container`'s current (or previous) instance, if any."""
        found = (await self._instances()).get(container) or []
        index = -2 if previous else -1
        if len(found) < (2 if previous else 1):
            return None
        return found[index].status.id

    def event(self, type_: str, reason: str, message: str) -> None:
        ref = self.pod
        if "kind" not in ref or "apiVersion" not in ref:
            ref = {**ref, "kind": "Pod", "apiVersion": "v1"}
        self.ctx.recorder.event(ref, type_, reason, message)



# --------------------------------------------------------------------------------------------
# Turns


class PodWorkers:
    """Gives a node's pod workers their turns (see the module doc).

    `start(worker)` gives a new worker its first turn; `PodWorker.wake` queues another. After a
    turn, a worker woken meanwhile is queued again at once (an update that came during a sync
    is synced next, as the kubelet's pending update); otherwise it parks until the delay its
    step returned (a deadline on `timers`, the agent's), or until woken. `on_finished(worker)`
    is called once a worker is finished. Turns run in the timers' task group: `bind(tg)` once
    the agent's task group is open (turns queued before wait for it), or `run()` for a task
    group and timers of their own.
    """

    def __init__(self, clock: Clock, on_finished: Callable[[PodWorker], None], timers: Timers | None = None) -> None:
        self.clock = clock
        self.on_finished = on_finished
        self.timers = timers if timers is not None else Timers(clock)
        self._waiting: deque[PodWorker] = deque()  # queued before `bind`
        self._tg: TaskGroup | None = None
        self._on_due = self._due  # one bound method for every heap entry

    def bind(self, tg: TaskGroup) -> None:
        """Run turns in `tg` from now on (the timers are bound to it too if they are not yet)."""
        self._tg = tg
        if self.timers.task_group is None:
            self.timers.bind(tg)
        while self._waiting:
            tg.start_soon(self._turn, self._waiting.popleft())

    def start(self, worker: PodWorker) -> None:
        """Begin running `worker`: its first turn comes at once."""
        worker._started = True
        self.queue(worker)

    def queue(self, worker: PodWorker) -> None:
        """Queue a turn for a started worker (nothing if one is queued; after the current one if
        it is in one)."""
        if worker._queued or worker._running or worker.finished:
            return
        worker._queued = True
        worker._parked = False
        worker._due = None  # its heap entry, if any, is stale now
        if self._tg is None:
            self._waiting.append(worker)
        else:
            self._tg.start_soon(self._turn, worker)

    async def run(self, *, task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """Give turns until cancelled, in a task group of its own, serving the timers."""
        async with anyio.create_task_group() as tg:
            self.timers.bind(tg)
            self.bind(tg)
            task_status.started()
            await self.timers.run()

    def _due(self, worker: PodWorker, deadline: float) -> None:
        if worker._due == deadline:  # else woken since: stale
            self.queue(worker)

    async def _turn(self, worker: PodWorker) -> None:
        worker._queued = False
        worker._running = True
        worker._woken = False  # wakes from now on mean another turn
        try:
            delay = await worker.step()
        finally:
            worker._running = False
        if worker.finished:
            self.on_finished(worker)
        elif worker._woken:
            self.queue(worker)
        else:
            worker._parked = True
            if delay is not None:
                due = self.clock.monotonic() + delay
                worker._due = due
                self.timers.call_at(due, self._on_due, worker)
