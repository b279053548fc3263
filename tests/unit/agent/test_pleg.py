"""The PLEG: which pods changed between two relists of the runtime."""

from __future__ import annotations

from kube_lite.runtimes.fake import RUN_SECONDS, FakeRuntime

from kube_lite.agent import cri
from kube_lite.agent.pleg import PodLifecycleEventGenerator, diff
from kube_lite.clock import VirtualClock
from tests.unit.agent.agentenv import RelistOnly

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


async def _pod(runtime: FakeRuntime, uid: str, **annotations: str) -> tuple[str, str]:
    await runtime.pull_image("busybox")
    sandbox_config = cri.PodSandboxConfig(
        metadata=cri.PodSandboxMetadata(uid, "default", uid), labels={cri.POD_UID_LABEL: uid}, annotations=annotations,
    )
    sandbox_id = await runtime.run_pod_sandbox(sandbox_config)
    config = cri.ContainerConfig(metadata=cri.ContainerMetadata("c"), image="busybox",
                                 labels={cri.POD_UID_LABEL: uid, cri.CONTAINER_NAME_LABEL: "c"})
    return sandbox_id, await runtime.create_container(sandbox_id, config, sandbox_config)


async def test_the_fake_runtime_reports_its_changes_and_is_not_relisted() -> None:
    import anyio

    clock = VirtualClock()
    runtime = FakeRuntime(clock)
    woken: list[tuple[float, str]] = []
    pleg = PodLifecycleEventGenerator(runtime, clock, lambda uid: woken.append((clock.monotonic(), uid)))
    assert pleg.evented and not PodLifecycleEventGenerator(RelistOnly(runtime), clock, print).evented
    async with anyio.create_task_group() as tg:
        await tg.start(pleg.run)
        relists = pleg.relists
        _, container_id = await _pod(runtime, "uid-1", **{RUN_SECONDS: "2.5"})
        await runtime.start_container(container_id)
        await anyio.wait_all_tasks_blocked()
        assert woken == []  # seen at the next tick of the one-second grid, as a relist would
        await clock.advance(1)
        await anyio.wait_all_tasks_blocked()
        assert woken == [(1.0, "uid-1")]
        # The run time ends at 2.5: a timer brings the exit in, the tick at 3 s tells.
        await clock.advance(3)
        await anyio.wait_all_tasks_blocked()
        assert woken == [(1.0, "uid-1"), (3.0, "uid-1")]
        # A sandbox made and removed between two ticks changes nothing: nobody is woken.
        sandbox_id, _ = await _pod(runtime, "uid-2")
        await runtime.remove_pod_sandbox(sandbox_id)
        await clock.advance(100)
        await anyio.wait_all_tasks_blocked()
        assert woken == [(1.0, "uid-1"), (3.0, "uid-1")]
        # Nothing else was listed: only the two ticks that had marked pods ran.
        assert pleg.relists - relists == 2 + 1  # + the 100 s tick of the removed sandbox
        tg.cancel_scope.cancel()
    await runtime.start_container((await _pod(runtime, "uid-3"))[1])
    assert pleg.events and not runtime._subscribers  # unsubscribed when it stopped
