"""The runtime conformance suite: what every ContainerRuntime (kube_lite.agent.cri) must do.

A runtime's test module provides a `runtime_harness` fixture and imports the tests:

    from tests.unit.agent.runtime_conformance import *  # noqa: F401,F403

    @pytest.fixture
    async def runtime_harness(tmp_path):
        runtime = SubprocessRuntime(tmp_path)
        yield RuntimeHarness(runtime, image="docker.io/library/busybox:latest",
                             container=my_container_factory, advance=real_sleep)

The harness describes workloads in the runtime's own terms (`container(...)` returns a
ContainerConfig and the sandbox annotations that make a container run forever, exit with a
code after a while, or ignore SIGTERM) and how time passes (`advance`: a virtual clock's
advance, or a real sleep). Tests only use timings of a few seconds and poll with `wait_until`,
so they hold for real runtimes too.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest

from kube_lite.agent import cri

__all__ = [
    "RuntimeHarness",
    "Workload",
    "test_container_exits_by_itself_with_code",
    "test_container_exits_zero",
    "test_container_labels_and_metadata_round_trip",
    "test_container_lifecycle",
    "test_container_logs",
    "test_create_needs_a_ready_sandbox",
    "test_ids_are_unique",
    "test_images_pull_list_status_remove",
    "test_list_filters",
    "test_remove_sandbox_removes_its_containers",
    "test_sandbox_lifecycle",
    "test_start_twice_fails",
    "test_stop_kills_after_timeout",
    "test_stop_sandbox_stops_its_containers",
    "test_stop_and_remove_are_idempotent",
    "test_version_and_status",
]


@dataclass(frozen=True)
class Workload:
    """What a container should do: run until stopped (run_seconds None), or exit with
    `exit_code` after `run_seconds`; with `ignore_sigterm`, it only dies by SIGKILL."""

    run_seconds: float | None = None
    exit_code: int = 0
    ignore_sigterm: bool = False


ContainerFactory = Callable[[str, Workload, int], tuple[cri.ContainerConfig, dict[str, str]]]


@dataclass
class RuntimeHarness:
    """`container(name, workload, attempt)` returns (config, sandbox annotations);
    `advance(seconds)` lets that much time pass for the runtime."""

    runtime: cri.ContainerRuntime
    image: str
    container: ContainerFactory
    advance: Callable[[float], Awaitable[None]]
    _uids: Any = field(default_factory=lambda: itertools.count(1))

    def sandbox_config(self, name: str = "pod", annotations: dict[str, str] | None = None,
                       labels: dict[str, str] | None = None) -> cri.PodSandboxConfig:
        uid = f"uid-{next(self._uids)}"
        return cri.PodSandboxConfig(
            metadata=cri.PodSandboxMetadata(name, "default", uid, 0),
            hostname=name,
            labels={cri.POD_NAME_LABEL: name, cri.POD_NAMESPACE_LABEL: "default", cri.POD_UID_LABEL: uid,
                    **(labels or {})},
            annotations=dict(annotations or {}),
        )

    async def wait_until(self, predicate: Callable[[], Awaitable[bool]], within: float = 10.0,
                         step: float = 0.1) -> None:
        waited = 0.0
        while not await predicate():
            if waited >= within:
                raise AssertionError(f"condition not met after {within}s")
            await self.advance(step)
            waited += step

    async def start_pod(self, name: str, workload: Workload = Workload(), *, labels: dict[str, str] | None = None
                        ) -> tuple[str, str, cri.PodSandboxConfig]:
        """Pull the image, run a sandbox and start one container in it: (sandbox id,
        container id, sandbox config)."""
        await self.runtime.pull_image(self.image)
        config, annotations = self.container(name, workload, 0)
        sandbox_config = self.sandbox_config(name, annotations, labels)
        # Containers carry their pod's identity labels, as the agent sets them.
        config = dataclasses.replace(config, labels={
            **config.labels, cri.CONTAINER_NAME_LABEL: name, cri.POD_UID_LABEL: sandbox_config.metadata.uid,
        })
        sandbox_id = await self.runtime.run_pod_sandbox(sandbox_config)
        container_id = await self.runtime.create_container(sandbox_id, config, sandbox_config)
        await self.blocking(self.runtime.start_container, container_id)
        return sandbox_id, container_id, sandbox_config

    async def blocking(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Await `fn(*args)` while time passes (a call that waits on the runtime's clock, such
        as a stop with a grace period, would never end on a virtual clock otherwise)."""
        result: list[Any] = []
        error: list[BaseException] = []
        done = anyio.Event()

        async def call() -> None:
            try:
                result.append(await fn(*args))
            except Exception as exc:  # handed to the caller as itself, not in a group
                error.append(exc)
            finally:
                done.set()

        async with anyio.create_task_group() as tg:
            tg.start_soon(call)
            waited = 0.0
            while not done.is_set():
                if waited > 60:
                    raise AssertionError(f"{getattr(fn, '__name__', fn)} did not return")
                await self.advance(0.1)
                waited += 0.1
        if error:
            raise error[0]
        return result[0]

    async def state(self, container_id: str) -> cri.ContainerState:
        return (await self.runtime.container_status(container_id)).state


# ------------------------------------------------------------------------------------------


async def test_version_and_status(runtime_harness: RuntimeHarness) -> None:
    version = await runtime_harness.runtime.version()
    assert version.runtime_name and version.runtime_version
    ready, message = (await runtime_harness.runtime.status()).ready()
    assert ready, message


async def test_images_pull_list_status_remove(runtime_harness: RuntimeHarness) -> None:
    runtime, image = runtime_harness.runtime, runtime_harness.image
    image_id = await runtime.pull_image(image)
    assert image_id
    assert await runtime.pull_image(image) == image_id  # pulling again: the same image
    status = await runtime.image_status(image)
    assert status is not None and status.id == image_id
    assert any(i.id == image_id for i in await runtime.list_images())
    assert (await runtime.image_status(image_id)) is not None  # by id too
    await runtime.remove_image(image)
    assert await runtime.image_status(image) is None
    await runtime.remove_image(image)  # idempotent


async def test_sandbox_lifecycle(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    config = runtime_harness.sandbox_config("web")
    sandbox_id = await runtime.run_pod_sandbox(config)
    status = await runtime.pod_sandbox_status(sandbox_id)
    assert status.id == sandbox_id
    assert status.state == cri.SandboxState.READY
    assert status.metadata == config.metadata
    assert status.created_at > 0
    assert status.labels[cri.POD_UID_LABEL] == config.metadata.uid
    listed = await runtime.list_pod_sandboxes()
    assert [s.id for s in listed if s.id == sandbox_id] == [sandbox_id]
    await runtime.stop_pod_sandbox(sandbox_id)
    assert (await runtime.pod_sandbox_status(sandbox_id)).state == cri.SandboxState.NOTREADY
    await runtime.remove_pod_sandbox(sandbox_id)
    with pytest.raises(cri.NotFoundError):
        await runtime.pod_sandbox_status(sandbox_id)
    assert all(s.id != sandbox_id for s in await runtime.list_pod_sandboxes())


async def test_stop_and_remove_are_idempotent(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    sandbox_id, container_id, _ = await runtime_harness.start_pod("idem")
    await runtime_harness.blocking(runtime.stop_container, container_id, 1)
    await runtime_harness.blocking(runtime.stop_container, container_id, 1)
    await runtime.remove_container(container_id)
    await runtime.remove_container(container_id)
    await runtime_harness.blocking(runtime.stop_container, container_id, 1)
    await runtime.stop_pod_sandbox(sandbox_id)
    await runtime.stop_pod_sandbox(sandbox_id)
    await runtime.remove_pod_sandbox(sandbox_id)
    await runtime.remove_pod_sandbox(sandbox_id)
    await runtime.stop_pod_sandbox("no-such-sandbox")
    await runtime.remove_pod_sandbox("no-such-sandbox")
    await runtime.remove_container("no-such-container")
    with pytest.raises(cri.NotFoundError):
        await runtime.container_status("no-such-container")
    with pytest.raises(cri.NotFoundError):
        await runtime.pod_sandbox_status("no-such-sandbox")


async def test_container_lifecycle(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(runtime_harness.image)
    config, annotations = runtime_harness.container("app", Workload(), 0)
    sandbox_config = runtime_harness.sandbox_config("life", annotations)
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    created = await runtime.container_status(container_id)
    assert created.state == cri.ContainerState.CREATED
    assert created.metadata == config.metadata
    assert created.created_at > 0 and created.started_at == 0
    assert created.image_ref
    await runtime_harness.blocking(runtime.start_container, container_id)
    running = await runtime.container_status(container_id)
    assert running.state == cri.ContainerState.RUNNING
    assert running.started_at >= running.created_at
    await runtime_harness.advance(0.5)
    assert await runtime_harness.state(container_id) == cri.ContainerState.RUNNING  # runs until stopped
    listed = await runtime.list_containers(cri.ContainerFilter(pod_sandbox_id=sandbox_id))
    assert [(c.id, c.pod_sandbox_id, c.state) for c in listed] == [(container_id, sandbox_id, cri.ContainerState.RUNNING)]
    await runtime_harness.blocking(runtime.stop_container, container_id, 5)
    stopped = await runtime.container_status(container_id)
    assert stopped.state == cri.ContainerState.EXITED
    assert stopped.finished_at >= stopped.started_at
    assert stopped.exit_code != 0  # ended by a signal
    await runtime.remove_container(container_id)
    with pytest.raises(cri.NotFoundError):
        await runtime.container_status(container_id)
    await runtime.remove_pod_sandbox(sandbox_id)


async def test_container_exits_zero(runtime_harness: RuntimeHarness) -> None:
    _, container_id, _ = await runtime_harness.start_pod("done", Workload(run_seconds=1, exit_code=0))
    await runtime_harness.wait_until(
        lambda: _is(runtime_harness, container_id, cri.ContainerState.EXITED), within=10
    )
    status = await runtime_harness.runtime.container_status(container_id)
    assert status.exit_code == 0
    assert status.reason in ("Completed", "")
    assert status.finished_at >= status.started_at > 0


async def test_container_exits_by_itself_with_code(runtime_harness: RuntimeHarness) -> None:
    _, container_id, _ = await runtime_harness.start_pod("fails", Workload(run_seconds=0.5, exit_code=3))
    await runtime_harness.wait_until(
        lambda: _is(runtime_harness, container_id, cri.ContainerState.EXITED), within=10
    )
    status = await runtime_harness.runtime.container_status(container_id)
    assert status.exit_code == 3
    assert status.reason in ("Error", "")


async def test_stop_kills_after_timeout(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    _, container_id, _ = await runtime_harness.start_pod("stubborn", Workload(ignore_sigterm=True))
    await runtime_harness.advance(0.5)
    await runtime_harness.blocking(runtime.stop_container, container_id, 1)
    status = await runtime.container_status(container_id)
    assert status.state == cri.ContainerState.EXITED
    assert status.exit_code == 137  # SIGKILL
    assert status.finished_at - status.started_at < 30


async def test_start_twice_fails(runtime_harness: RuntimeHarness) -> None:
    _, container_id, _ = await runtime_harness.start_pod("twice")
    with pytest.raises(cri.RuntimeServiceError):
        await runtime_harness.blocking(runtime_harness.runtime.start_container, container_id)


async def test_create_needs_a_ready_sandbox(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(runtime_harness.image)
    config, annotations = runtime_harness.container("c", Workload(), 0)
    sandbox_config = runtime_harness.sandbox_config("nosandbox", annotations)
    with pytest.raises(cri.NotFoundError):
        await runtime.create_container("no-such-sandbox", config, sandbox_config)
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    await runtime.stop_pod_sandbox(sandbox_id)
    with pytest.raises(cri.RuntimeServiceError):
        await runtime.create_container(sandbox_id, config, sandbox_config)


async def test_stop_sandbox_stops_its_containers(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    sandbox_id, container_id, _ = await runtime_harness.start_pod("stopall")
    await runtime.stop_pod_sandbox(sandbox_id)
    assert await runtime_harness.state(container_id) == cri.ContainerState.EXITED


async def test_remove_sandbox_removes_its_containers(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    sandbox_id, container_id, _ = await runtime_harness.start_pod("rmall")
    await runtime.remove_pod_sandbox(sandbox_id)
    with pytest.raises(cri.NotFoundError):
        await runtime.container_status(container_id)
    assert all(c.id != container_id for c in await runtime.list_containers())


async def test_list_filters(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    a_sandbox, a_container, a_config = await runtime_harness.start_pod("a", labels={"app": "a"})
    b_sandbox, b_container, _ = await runtime_harness.start_pod("b", labels={"app": "b"})
    await runtime_harness.blocking(runtime.stop_container, b_container, 1)
    by_label = await runtime.list_pod_sandboxes(cri.PodSandboxFilter(label_selector={"app": "a"}))
    assert [s.id for s in by_label] == [a_sandbox]
    by_id = await runtime.list_pod_sandboxes(cri.PodSandboxFilter(id=b_sandbox))
    assert [s.id for s in by_id] == [b_sandbox]
    running = await runtime.list_containers(cri.ContainerFilter(state=cri.ContainerState.RUNNING))
    assert a_container in [c.id for c in running] and b_container not in [c.id for c in running]
    by_pod = await runtime.list_containers(
        cri.ContainerFilter(label_selector={cri.POD_UID_LABEL: a_config.metadata.uid})
    )
    assert [c.id for c in by_pod] == [a_container]
    assert [c.id for c in await runtime.list_containers(cri.ContainerFilter(id=b_container))] == [b_container]


async def test_container_labels_and_metadata_round_trip(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(runtime_harness.image)
    config, annotations = runtime_harness.container("meta", Workload(), 2)
    config = cri.ContainerConfig(
        metadata=config.metadata, image=config.image, command=config.command, args=config.args,
        envs=config.envs, labels={**config.labels, cri.CONTAINER_NAME_LABEL: "meta"},
        annotations={**config.annotations, "note": "kept"}, log_path=config.log_path,
    )
    sandbox_config = runtime_harness.sandbox_config("meta", annotations)
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    status = await runtime.container_status(container_id)
    assert status.metadata.name == "meta" and status.metadata.attempt == 2
    assert status.labels[cri.CONTAINER_NAME_LABEL] == "meta"
    assert status.annotations["note"] == "kept"
    listed = await runtime.list_containers(cri.ContainerFilter(label_selector={cri.CONTAINER_NAME_LABEL: "meta"}))
    assert [c.id for c in listed] == [container_id]


async def test_container_logs(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    _, container_id, _ = await runtime_harness.start_pod("logs", Workload(run_seconds=0.5, exit_code=0))
    await runtime_harness.wait_until(lambda: _is(runtime_harness, container_id, cri.ContainerState.EXITED))
    lines = await runtime.container_logs(container_id)
    assert lines and all(isinstance(line, str) and "\n" not in line for line in lines)
    assert await runtime.container_logs(container_id, tail_lines=1) == lines[-1:]
    assert await runtime.container_logs(container_id, tail_lines=0) == []
    with pytest.raises(cri.NotFoundError):
        await runtime.container_logs("no-such-container")


async def test_ids_are_unique(runtime_harness: RuntimeHarness) -> None:
    ids = set()
    for i in range(3):
        sandbox_id, container_id, _ = await runtime_harness.start_pod(f"u{i}")
        ids.update((sandbox_id, container_id))
        await runtime_harness.runtime.remove_pod_sandbox(sandbox_id)
    assert len(ids) == 6


async def _is(harness: RuntimeHarness, container_id: str, state: cri.ContainerState) -> bool:
    return await harness.state(container_id) == state
