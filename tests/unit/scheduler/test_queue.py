"""The scheduling queue: ordering, backoff, the unschedulable pool and cluster events."""

from __future__ import annotations

import anyio
import pytest

from kube_lite.scheduler.plugin import NODE_ADD, NODE_LABEL, POD_DELETE, WILDCARD
from kube_lite.scheduler.queue import Nominator, SchedulingQueue, backoff_duration

from .helpers import info


class StepClock:
    """Just enough of a Clock for the queue: a monotonic time the test sets."""

    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


EVENTS = {"NodeAffinity": {NODE_ADD, NODE_LABEL}, "NodeResourcesFit": {NODE_ADD, POD_DELETE}}


def make() -> tuple[SchedulingQueue, StepClock]:
    clock = StepClock()
    return SchedulingQueue(clock, plugin_events=EVENTS), clock  # type: ignore[arg-type]


def pop_all(queue: SchedulingQueue) -> list[str]:
    out = []
    while (qpi := queue.pop_nowait()) is not None:
        out.append(qpi.pod.name)
        queue.done(qpi.key)
    return out


@pytest.mark.parametrize(("attempts", "seconds"), [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 10.0), (50, 10.0)])
def test_backoff_doubles_up_to_ten_seconds(attempts: int, seconds: float) -> None:
    assert backoff_duration(attempts) == seconds


def test_active_order_is_priority_then_arrival() -> None:
    queue, clock = make()
    for name, priority in [("a", 0), ("b", 10), ("c", 0), ("d", 10), ("e", -5)]:
        queue.add(info(name, priority=priority))
        clock.now += 1
    assert pop_all(queue) == ["b", "d", "a", "c", "e"]


def test_priority_change_reorders() -> None:
    queue, _ = make()
    queue.add(info("a", priority=1))
    queue.add(info("b", priority=2))
    queue.update(info("a", priority=3))
    assert pop_all(queue) == ["a", "b"]


def test_failed_pod_waits_for_an_event_its_plugin_listens_to() -> None:
    queue, clock = make()
    queue.add(info("p"))
    qpi = queue.pop_nowait()
    cycle = queue.scheduling_cycle
    queue.requeue_failed(qpi, {"NodeAffinity"}, cycle)
    assert queue.pool_of("default/p") == "unschedulable"
    assert queue.move_all(POD_DELETE) == 0  # NodeAffinity does not care about pod deletions
    assert queue.pool_of("default/p") == "unschedulable"
    assert queue.move_all(NODE_LABEL) == 1
    # Still within its 1 s backoff: to backoff, then active once the backoff is over.
    assert queue.pool_of("default/p") == "backoff"
    clock.now += 0.5
    assert queue.flush_backoff() == 0
    clock.now += 0.6
    assert queue.flush_backoff() == 1
    assert pop_all(queue) == ["p"]


def test_event_after_backoff_goes_straight_to_active() -> None:
    queue, clock = make()
    queue.add(info("p"))
    qpi = queue.pop_nowait()
    queue.requeue_failed(qpi, {"NodeResourcesFit"}, queue.scheduling_cycle)
    clock.now += 5
    queue.move_all(NODE_ADD)
    assert queue.pool_of("default/p") == "active"


def test_a_move_during_the_cycle_sends_the_pod_to_backoff() -> None:
    queue, _ = make()
    queue.add(info("p"))
    qpi = queue.pop_nowait()
    cycle = queue.scheduling_cycle
    queue.move_all(NODE_ADD)  # an event while the pod was being scheduled
    queue.requeue_failed(qpi, {"NodeAffinity"}, cycle)
    assert queue.pool_of("default/p") == "backoff"


def test_errors_go_to_backoff_and_attempts_grow_the_backoff() -> None:
    queue, clock = make()
    queue.add(info("p"))
    for attempt, wait in [(1, 1.0), (2, 2.0), (3, 4.0)]:
        qpi = queue.pop_nowait()
        assert qpi.attempts == attempt
        queue.requeue_failed(qpi, (), queue.scheduling_cycle)
        assert queue.pool_of("default/p") == "backoff"
        clock.now += wait - 0.01
        assert queue.flush_backoff() == 0
        clock.now += 0.02
        assert queue.flush_backoff() == 1


def test_unschedulable_pods_are_flushed_after_five_minutes() -> None:
    queue, clock = make()
    queue.add(info("p"))
    queue.requeue_failed(queue.pop_nowait(), {"NodeAffinity"}, queue.scheduling_cycle)
    clock.now += 299
    assert queue.flush_unschedulable() == 0
    clock.now += 2
    assert queue.flush_unschedulable() == 1
    assert queue.pool_of("default/p") == "active"


def test_wildcard_moves_everything() -> None:
    queue, _ = make()
    for name in "ab":
        queue.add(info(name))
        queue.requeue_failed(queue.pop_nowait(), {"NodeAffinity"}, queue.scheduling_cycle)
    assert queue.move_all(WILDCARD) == 2


def test_update_of_an_unschedulable_pod_retries_it_only_when_its_spec_changes() -> None:
    queue, _ = make()
    queue.add(info("p"))
    queue.requeue_failed(queue.pop_nowait(), {"NodeAffinity"}, queue.scheduling_cycle)
    queue.update(info("p"), moved=False)  # a status update
    assert queue.pool_of("default/p") == "unschedulable"
    queue.update(info("p", labels={"x": "y"}), moved=True)
    assert queue.pool_of("default/p") == "backoff"


def test_delete_while_in_flight_drops_the_pod() -> None:
    queue, _ = make()
    queue.add(info("p"))
    qpi = queue.pop_nowait()
    queue.delete("default/p")
    queue.requeue_failed(qpi, {"NodeAffinity"}, queue.scheduling_cycle)
    assert queue.pool_of("default/p") is None and len(queue) == 0


def test_gated_pods_wait_for_their_gates() -> None:
    queue, _ = make()
    queue.add(info("p", schedulingGates=[{"name": "example.com/wait"}]))
    assert queue.pool_of("default/p") == "gated" and queue.pop_nowait() is None
    queue.update(info("p"))
    assert pop_all(queue) == ["p"]


async def test_pop_waits_for_a_pod() -> None:
    queue, _ = make()
    got = []

    async def consumer() -> None:
        got.append((await queue.pop()).pod.name)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consumer)
        await anyio.sleep(0.01)
        assert not got
        queue.add(info("p"))
    assert got == ["p"]


def test_nominator() -> None:
    nominator = Nominator()
    nominator.add(info("a"), "n1")
    nominator.add(info("b"), "n1")
    nominator.add(info("a"), "n2")
    assert [p.name for p in nominator.pods_on("n1")] == ["b"]
    assert nominator.node_of("default/a") == "n2"
    nominator.remove("default/b")
    assert "n1" not in nominator.by_node and len(nominator) == 1
