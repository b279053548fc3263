import anyio

from kube_lite.client.leaderelection import LeaderElector
from kube_lite.clock import VirtualClock
from kube_lite.server.apiserver import APIServer


async def _advance(clock: VirtualClock, seconds: float, step: float = 0.5) -> None:
    for _ in range(int(seconds / step)):
        await clock.advance(step)
        for _ in range(20):
            await anyio.lowlevel.checkpoint()


async def test_one_leader_at_a_time_and_failover_after_lease_duration() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        leading: list[str] = []

        def candidate(name: str) -> LeaderElector:
            return LeaderElector(server.client(), "kube-system", "test-lock", name, clock)

        async def lead_as(name: str) -> None:
            leading.append(name)
            await anyio.sleep_forever()

        a, b = candidate("a"), candidate("b")
        async with anyio.create_task_group() as tg:
            scope_a = anyio.CancelScope()

            async def run_a() -> None:
                with scope_a:
                    await a.run(lambda: lead_as("a"))

            tg.start_soon(run_a)
            await _advance(clock, 1)
            tg.start_soon(b.run, lambda: lead_as("b"))
            await _advance(clock, 30)
            assert leading == ["a"] and a.is_leader and not b.is_leader

            # a crashes without releasing: b takes over only once the lease has expired.
            a._release = _noop  # type: ignore[method-assign]
            scope_a.cancel()
            await _advance(clock, 10)
            assert leading == ["a"]
            await _advance(clock, 10)
            assert leading == ["a", "b"] and b.is_leader
            lease = await server.client().get("leases", "test-lock", namespace="kube-system")
            assert lease["spec"]["holderIdentity"] == "b"
            assert lease["spec"]["leaseTransitions"] == 1
            tg.cancel_scope.cancel()


async def test_release_on_stop_hands_over_at_once() -> None:
    clock = VirtualClock()
    async with APIServer("memory:", clock=clock) as server:
        a = LeaderElector(server.client(), "kube-system", "lock", "a", clock)
        async with anyio.create_task_group() as tg:
            tg.start_soon(a.run, anyio.sleep_forever)
            await _advance(clock, 1)
            assert a.is_leader
            tg.cancel_scope.cancel()
        lease = await server.client().get("leases", "lock", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == ""
        b = LeaderElector(server.client(), "kube-system", "lock", "b", clock)
        await clock.advance(1.5)
        assert await b.try_acquire_or_renew()


async def _noop() -> None:
    return None
