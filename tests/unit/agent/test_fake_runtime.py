"""The fake runtime: the runtime conformance suite, then what its annotations do."""

from __future__ import annotations

import pytest
from kube_lite.runtimes.fake import EXIT_CODE, RUN_SECONDS, START_SECONDS, STOP_SECONDS, FakeRuntime

from kube_lite.agent import cri
from kube_lite.clock import VirtualClock
from tests.unit.agent.runtime_conformance import *  # noqa: F403
from tests.unit.agent.runtime_conformance import RuntimeHarness, Workload

IMAGE = "busybox"


def fake_container(name: str, workload: Workload, attempt: int) -> tuple[cri.ContainerConfig, dict[str, str]]:
    annotations: dict[str, str] = {}
    if workload.run_seconds is not None:
        annotations[RUN_SECONDS] = str(workload.run_seconds)
        annotations[EXIT_CODE] = str(workload.exit_code)
    if workload.ignore_sigterm:
        annotations[STOP_SECONDS] = "3600"
    config = cri.ContainerConfig(metadata=cri.ContainerMetadata(name, attempt), image=IMAGE,
                                 command=("sleep",), args=("infinity",))
    return config, annotations


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def runtime_harness(clock: VirtualClock) -> RuntimeHarness:
    return RuntimeHarness(FakeRuntime(clock), IMAGE, fake_container, clock.advance)


# ------------------------------------------------------------------------------------------


async def test_run_seconds_end_exactly_on_time(runtime_harness: RuntimeHarness, clock: VirtualClock) -> None:
    _, container_id, _ = await runtime_harness.start_pod("timed", Workload(run_seconds=5, exit_code=0))
    started = (await runtime_harness.runtime.container_status(container_id)).started_at
    await clock.advance(4.9)
    assert await runtime_harness.state(container_id) == cri.ContainerState.RUNNING
    await clock.advance(30)  # noticed late: the finish time is still when it ended
    status = await runtime_harness.runtime.container_status(container_id)
    assert status.state == cri.ContainerState.EXITED
    assert status.finished_at == started + 5
    assert (status.exit_code, status.reason) == (0, "Completed")


async def test_exit_code_alone_exits_at_once(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(IMAGE)
    config, _ = fake_container("c", Workload(), 0)
    sandbox_config = runtime_harness.sandbox_config("p", {EXIT_CODE: "2"})
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    await runtime.start_container(container_id)
    status = await runtime.container_status(container_id)
    assert (status.state, status.exit_code, status.reason) == (cri.ContainerState.EXITED, 2, "Error")


async def test_per_container_annotations_win(runtime_harness: RuntimeHarness, clock: VirtualClock) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(IMAGE)
    annotations = {RUN_SECONDS: "100", f"{RUN_SECONDS}.init": "1"}
    sandbox_config = runtime_harness.sandbox_config("p", annotations)
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    ids = {}
    for name in ("init", "main"):
        config, _ = fake_container(name, Workload(), 0)
        ids[name] = await runtime.create_container(sandbox_id, config, sandbox_config)
        await runtime.start_container(ids[name])
    await clock.advance(2)
    assert await runtime_harness.state(ids["init"]) == cri.ContainerState.EXITED
    assert await runtime_harness.state(ids["main"]) == cri.ContainerState.RUNNING


async def test_start_seconds_delay_the_start(runtime_harness: RuntimeHarness, clock: VirtualClock) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(IMAGE)
    config, _ = fake_container("slow", Workload(), 0)
    sandbox_config = runtime_harness.sandbox_config("p", {START_SECONDS: "3"})
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    before = clock.monotonic()
    await runtime_harness.blocking(runtime.start_container, container_id)
    assert clock.monotonic() - before >= 3
    assert await runtime_harness.state(container_id) == cri.ContainerState.RUNNING


async def test_sigterm_within_grace_exits_143(runtime_harness: RuntimeHarness, clock: VirtualClock) -> None:
    runtime = runtime_harness.runtime
    await runtime.pull_image(IMAGE)
    config, _ = fake_container("graceful", Workload(), 0)
    sandbox_config = runtime_harness.sandbox_config("p", {STOP_SECONDS: "2"})
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    await runtime.start_container(container_id)
    before = clock.monotonic()
    await runtime_harness.blocking(runtime.stop_container, container_id, 10)
    assert 2 <= clock.monotonic() - before < 3
    status = await runtime.container_status(container_id)
    assert status.exit_code == 143
    assert "received SIGTERM" in await runtime.container_logs(container_id)


async def test_images_are_normalised_and_listed(runtime_harness: RuntimeHarness) -> None:
    runtime = runtime_harness.runtime
    image_id = await runtime.pull_image("nginx:1.27")
    image = await runtime.image_status("docker.io/library/nginx:1.27")
    assert image is not None and image.id == image_id
    assert image.repo_tags == ("docker.io/library/nginx:1.27",)
    assert image.repo_digests[0].startswith("docker.io/library/nginx@sha256:")
    assert await runtime.image_status("nginx:1.28") is None


def test_normalize_image() -> None:
    assert cri.normalize_image("busybox") == "docker.io/library/busybox:latest"
    assert cri.normalize_image("library/busybox:1") == "docker.io/library/busybox:1"
    assert cri.normalize_image("quay.io/x/y") == "quay.io/x/y:latest"
    assert cri.normalize_image("localhost:5000/y") == "localhost:5000/y:latest"
    assert cri.normalize_image("busybox@sha256:abc") == "docker.io/library/busybox@sha256:abc"


def test_the_conformance_suite_exports_every_test() -> None:
    from tests.unit.agent import network_conformance, runtime_conformance

    for module in (runtime_conformance, network_conformance):
        tests = {name for name in vars(module) if name.startswith("test_")}
        assert tests <= set(module.__all__), tests - set(module.__all__)


async def test_changes_are_reported_as_they_happen(runtime_harness: RuntimeHarness, clock: VirtualClock) -> None:
    runtime = runtime_harness.runtime
    assert isinstance(runtime, cri.ContainerEventSource)
    seen: list[str] = []
    runtime.subscribe_events(seen.append)
    sandbox_id, container_id, config = await runtime_harness.start_pod("timed", Workload(run_seconds=5, exit_code=0))
    uid = config.metadata.uid
    assert seen == [uid] * 3  # sandbox ready, container created, container running
    started = (await runtime.container_status(container_id)).started_at
    assert runtime.next_transition() == started + 5
    await clock.advance(5)
    runtime.expire_due()  # the exit, at the time the runtime said
    assert len(seen) == 4 and runtime.next_transition() is None
    assert (await runtime.container_status(container_id)).finished_at == started + 5
    await runtime.remove_pod_sandbox(sandbox_id)  # the sandbox stops, the container goes, the sandbox goes
    assert seen == [uid] * 7
    runtime.unsubscribe_events(seen.append)
    await runtime_harness.start_pod("quiet")
    assert len(seen) == 7


async def test_the_start_lines_of_the_log_are_made_when_read(runtime_harness: RuntimeHarness) -> None:
    _, container_id, _ = await runtime_harness.start_pod("web")
    runtime = runtime_harness.runtime
    assert await runtime.container_logs(container_id) == [
        "fake container web started from busybox", "command: sleep infinity", "running until stopped",
    ]
    await runtime.stop_container(container_id, 10)
    assert await runtime.container_logs(container_id, tail_lines=3) == [
        "running until stopped", "received SIGTERM", "exited on SIGTERM",
    ]
