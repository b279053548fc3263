"""Test doubles shared by the controller tests."""

from __future__ import annotations

from typing import Any


class FakeRecorder:
    """Keeps the Events a controller records, as (type, reason, message), and the source
    component each was recorded as in `sources`."""

    def __init__(self, component: str = "kube-controller-manager", shared: FakeRecorder | None = None) -> None:
        self.component = component
        self._shared = shared
        self.events: list[tuple[str, str, str]] = [] if shared is None else shared.events
        self.sources: list[str] = [] if shared is None else shared.sources

    def named(self, component: str) -> FakeRecorder:
        return FakeRecorder(component, self._shared or self)

    def event(self, obj: Any, type_: str, reason: str, message: str) -> None:
        self.events.append((type_, reason, message))
        self.sources.append(self.component)

    def reasons(self) -> list[str]:
        return [reason for _, reason, _ in self.events]
