"""The pod worker's decisions (compute_actions), without a runtime."""

from __future__ import annotations

from typing import Any

from kube_lite.agent import cri
from kube_lite.agent.backoff import BackOff
from kube_lite.agent.podworker import Instance, compute_actions

T0 = 1_767_225_600.0


def pod(policy: str = "Always", inits: tuple[str, ...] = (), containers: tuple[str, ...] = ("app",)) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
        "spec": {"restartPolicy": policy, "initContainers": [{"name": n} for n in inits],
                 "containers": [{"name": n} for n in containers]},
    }


def inst(name: str, state: cri.ContainerState, exit_code: int = 0, attempt: int = 0, sandbox: str = "s1",
         finished: float = T0) -> Instance:
    status = cri.ContainerStatus(id=f"{name}-{attempt}", metadata=cri.ContainerMetadata(name, attempt), state=state,
                                 created_at=T0, started_at=T0, finished_at=finished, exit_code=exit_code)
    return Instance(status, sandbox)


def started(actions: Any) -> list[tuple[str, int]]:
    return [(c["name"], attempt) for c, attempt in actions.start]


def test_fresh_pod_starts_every_container() -> None:
    assert started(compute_actions(pod(containers=("a", "b")), {}, "s1", BackOff(), T0)) == [("a", 0), ("b", 0)]


def test_init_containers_one_at_a_time() -> None:
    p = pod(inits=("i1", "i2"))
    assert started(compute_actions(p, {}, "s1", BackOff(), T0)) == [("i1", 0)]
    running = {"i1": [inst("i1", cri.ContainerState.RUNNING)]}
    assert started(compute_actions(p, running, "s1", BackOff(), T0)) == []
    done = {"i1": [inst("i1", cri.ContainerState.EXITED, 0)]}
    assert started(compute_actions(p, done, "s1", BackOff(), T0)) == [("i2", 0)]
    both = {**done, "i2": [inst("i2", cri.ContainerState.EXITED, 0)]}
    assert started(compute_actions(p, both, "s1", BackOff(), T0)) == [("app", 0)]
    # A new sandbox runs the init containers again.
    assert started(compute_actions(p, both, "s2", BackOff(), T0)) == [("i1", 1)]


def test_failed_init_container() -> None:
    failed = {"i1": [inst("i1", cri.ContainerState.EXITED, 2)]}
    assert started(compute_actions(pod("Never", inits=("i1",)), failed, "s1", BackOff(), T0)) == []
    assert started(compute_actions(pod("OnFailure", inits=("i1",)), failed, "s1", BackOff(), T0)) == [("i1", 1)]


def test_restart_policy_and_back_off() -> None:
    exited = {"app": [inst("app", cri.ContainerState.EXITED, 1, finished=T0)]}
    assert started(compute_actions(pod("Never"), exited, "s1", BackOff(), T0)) == []
    clean = {"app": [inst("app", cri.ContainerState.EXITED, 0)]}
    assert started(compute_actions(pod("OnFailure"), clean, "s1", BackOff(), T0)) == []
    backoff = BackOff()
    assert started(compute_actions(pod(), exited, "s1", backoff, T0 + 1)) == [("app", 1)]  # first: at once
    again = {"app": [inst("app", cri.ContainerState.EXITED, 1, attempt=1, finished=T0 + 2)]}
    actions = compute_actions(pod(), again, "s1", backoff, T0 + 3)
    assert started(actions) == []
    reason, message = actions.waiting["app"]
    assert reason == "CrashLoopBackOff"
    assert message == "back-off 10s restarting failed container=app pod=p_ns(u)"
    assert actions.wake_after == 9
    assert started(compute_actions(pod(), again, "s1", backoff, T0 + 12)) == [("app", 2)]


def test_containers_of_a_dead_sandbox_start_again_without_back_off() -> None:
    killed = {"app": [inst("app", cri.ContainerState.EXITED, 137, sandbox="old")]}
    backoff = BackOff()
    backoff.next("app", T0)
    assert started(compute_actions(pod(), killed, "new", backoff, T0 + 1)) == [("app", 1)]
    assert started(compute_actions(pod("Never"), killed, "new", backoff, T0 + 1)) == []


# ------------------------------------------------------------------------------------------ turns


async def test_pod_workers_turns_wake_park_and_finish() -> None:
    import anyio

    from kube_lite.agent.podworker import PodWorker, PodWorkerContext, PodWorkers
    from kube_lite.clock import VirtualClock

    clock = VirtualClock()
    finished: list[str] = []
    turns = PodWorkers(clock, lambda w: finished.append(w.uid))
    ctx = PodWorkerContext(client=None, runtime=None, network=None, clock=clock, status=None,  # type: ignore[arg-type]
                           recorder=None, node_name="n", host_ips=[], turns=turns)  # type: ignore[arg-type]
    steps: list[float] = []

    class Worker(PodWorker):
        __slots__ = ()

        async def step(self) -> float | None:
            steps.append(clock.monotonic())
            if len(steps) == 3:
                self.finished = True
                return None
            return 60.0

    worker = Worker(ctx, pod())
    async with anyio.create_task_group() as tg:
        await tg.start(turns.run)
        worker.wake()  # not started yet: no turn
        await anyio.wait_all_tasks_blocked()
        assert steps == []
        turns.start(worker)
        await anyio.wait_all_tasks_blocked()
        assert steps == [0.0] and worker.parked  # parked until its resync, 60 s later
        await clock.advance(10)
        worker.wake()
        await anyio.wait_all_tasks_blocked()
        assert steps == [0.0, 10.0]
        await clock.advance(59)
        await anyio.wait_all_tasks_blocked()
        assert steps == [0.0, 10.0]  # the wake replaced the turn due at 60 s: next at 70 s
        await clock.advance(1)
        await anyio.wait_all_tasks_blocked()
        assert steps == [0.0, 10.0, 70.0] and finished == ["u"]
        tg.cancel_scope.cancel()
