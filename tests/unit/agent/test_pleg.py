"""The PLEG: which pods changed between two relists of the runtime."""

from __future__ import annotations

from kube_lite.runtimes.fake import RUN_SECONDS, FakeRuntime

from kube_lite.agent import cri
from kube_lite.agent.pleg import PodLifecycleEventGenerator, diff
from kube_lite.clock import VirtualClock

RUNNING, EXITED = cri.ContainerState.RUNNING, cri.ContainerState.EXITED


def test_diff_reports_new_changed_and_gone_entries() -> None:
    before = {"a": (RUNNING, "pod-a"), "b": (RUNNING, "pod-b"), "c": (RUNNING, "pod-c")}
    after = {"a": (RUNNING, "pod-a"), "b": (EXITED, "pod-b"), "d": (RUNNING, "pod-d")}
    assert diff(before, after) == {"pod-b", "pod-c", "pod-d"}
    assert diff(after, after) == set()
    assert diff({}, {"x": (RUNNING, "")}) == set()  # no pod uid: nobody to tell


async def test_relist_sees_a_container_exit_on_its_own() -> None:
    clock = VirtualClock()
    runtime = FakeRuntime(clock)
    await runtime.pull_image("busybox")
    sandbox_config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata("p", "default", "uid-1"),
        labels={cri.POD_UID_LABEL: "uid-1"}, annotations={RUN_SECONDS: "3"},
    )
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    config = cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="busybox",
                                 labels={cri.POD_UID_LABEL: "uid-1", cri.CONTAINER_NAME_LABEL: "c"})
    container_id = await runtime.create_container(sandbox_id, config, sandbox_config)
    woken: list[str] = []
    pleg = PodLifecycleEventGenerator(runtime, clock, woken.append)
    assert await pleg.relist() == {"uid-1"}  # everything is new to a first relist
    await runtime.start_container(container_id)
    assert await pleg.relist() == {"uid-1"}  # CREATED -> RUNNING
    assert await pleg.relist() == set()
    await clock.advance(3)
    assert await pleg.relist() == {"uid-1"}  # RUNNING -> EXITED, noticed by the list
    await runtime.remove_pod_sandbox(sandbox_id)
    assert await pleg.relist() == {"uid-1"}
    assert await runtime.list_containers(cri.ContainerFilter(label_selector={cri.POD_UID_LABEL: "uid-1"})) == []
