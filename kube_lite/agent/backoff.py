"""CrashLoopBackOff: how long a failed container waits before its next restart.

The kubelet's rule: the first restart of a container is immediate; each further one waits a
back-off that starts at 10 s and doubles up to 5 min, measured from the moment the container
last exited. A back-off left alone for twice the maximum (10 min: the container ran that long,
or nothing failed for that long) starts again from 10 s.

Sans-IO: every method takes the times it needs (wall-clock seconds, as container statuses
carry them); nothing here reads a clock or sleeps.
"""

from __future__ import annotations

from dataclasses import dataclass

INITIAL_BACKOFF = 10.0
MAX_BACKOFF = 300.0


@dataclass
class _Entry:
    backoff: float
    last_update: float


class BackOff:
    """Per-key exponential back-off (kubelet's flowcontrol.Backoff, as its container
    restarts use it)."""

    def __init__(self, initial: float = INITIAL_BACKOFF, maximum: float = MAX_BACKOFF) -> None:
        self.initial = initial
        self.maximum = maximum
        self._entries: dict[str, _Entry] = {}

    def _expired(self, entry: _Entry, event_time: float) -> bool:
        return event_time - entry.last_update > 2 * self.maximum

    def in_backoff_since(self, key: str, event_time: float, now: float) -> bool:
        """Whether a restart of `key`, whose container exited at `event_time`, must still
        wait at `now`."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            return False
        return now - event_time < entry.backoff

    def next(self, key: str, event_time: float) -> None:
        """Record a restart of `key` after an exit at `event_time`: the back-off for the
        following exit doubles (or starts at the initial value)."""
        entry = self._entries.get(key)
        if entry is None or self._expired(entry, event_time):
            self._entries[key] = _Entry(self.initial, event_time)
        else:
            entry.backoff = min(entry.backoff * 2, self.maximum)
            entry.last_update = event_time

    def get(self, key: str) -> float:
        """The current back-off of `key` (0 when it has none)."""
        entry = self._entries.get(key)
        return entry.backoff if entry else 0.0

    def remaining(self, key: str, event_time: float, now: float) -> float:
        """Seconds until a restart of `key` may happen (0 when it may now)."""
        if not self.in_backoff_since(key, event_time, now):
            return 0.0
        return max(event_time + self._entries[key].backoff - now, 0.0)

    def reset(self, key: str) -> None:
        self._entries.pop(key, None)

    def gc(self, now: float) -> None:
        """Forget entries expired at `now`."""
        for key in [k for k, e in self._entries.items() if self._expired(e, now)]:
            del self._entries[key]


def go_duration(seconds: float) -> str:
    """A duration as Go's time.Duration prints it: "10s", "1m20s", "5m0s", "1h0m0s", "1.5s"."""
    if seconds == 0:
        return "0s"
    whole = int(seconds)
    frac = seconds - whole
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    sec_text = f"{secs + frac:g}s" if frac else f"{secs}s"
    if hours:
        return f"{hours}h{minutes}m{sec_text}"
    if minutes:
        return f"{minutes}m{sec_text}"
    return sec_text
