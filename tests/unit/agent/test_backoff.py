"""CrashLoopBackOff arithmetic, without a clock."""

from __future__ import annotations

import pytest

from kube_lite.agent.backoff import BackOff, go_duration


def test_first_restart_is_immediate_then_doubles_to_five_minutes() -> None:
    backoff = BackOff()
    t = 1000.0
    assert not backoff.in_backoff_since("c", t, t)  # never failed before: restart now
    backoff.next("c", t)
    waits = []
    for _ in range(8):
        t += 1  # the container ran one second and failed again
        assert backoff.in_backoff_since("c", t, t)
        waits.append(backoff.get("c"))
        assert backoff.remaining("c", t, t + 3) == backoff.get("c") - 3
        t += backoff.get("c")
        assert not backoff.in_backoff_since("c", t - backoff.get("c"), t)
        backoff.next("c", t - waits[-1])
    assert waits == [10, 20, 40, 80, 160, 300, 300, 300]


def test_back_off_resets_after_ten_minutes_without_failing() -> None:
    backoff = BackOff()
    backoff.next("c", 0)
    backoff.next("c", 10)
    backoff.next("c", 40)
    assert backoff.get("c") == 40
    # The container then ran for over 10 minutes before failing: back to the start.
    exit_time = 40 + 601
    assert not backoff.in_backoff_since("c", exit_time, exit_time)
    backoff.next("c", exit_time)
    assert backoff.get("c") == 10
    backoff.gc(exit_time + 601)
    assert backoff.get("c") == 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (10, "10s"), (80, "1m20s"), (300, "5m0s"), (3600, "1h0m0s"), (1.5, "1.5s"), (61.25, "1m1.25s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text
