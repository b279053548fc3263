"""The ``backend`` fixture: every conformance test runs once per backend (memory, sqlite, etcd).

The fixture is a `BackendFactory`, not an open backend: a backend owns a task group, and an
async fixture's setup and teardown run in different tasks under pytest-asyncio, where a task
group cannot be entered in one and left in the other. So a test opens it itself::

    async with backend.open() as b: ...

`open()` again gives a second backend on the *same* storage (the restart test), `open_fresh()`
one on new, empty storage of the same kind (the restore target).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from kube_lite.clock import VirtualClock
from kube_lite.store.backend import Backend, open_backend


@dataclass
class BackendFactory:
    """Opens backends of one kind for one test."""

    kind: str
    url: str
    #: A URL on new, empty storage each call.
    fresh_url: Callable[[], str]
    #: Why reopening `url` is not a restart test for this kind (None: it is).
    no_restart: str | None
    options: dict[str, Any] = field(default_factory=dict)
    clock: VirtualClock = field(default_factory=VirtualClock)

    def open(self, **options: Any) -> Backend:
        """A backend on this test's storage (not entered: use ``async with``)."""
        return open_backend(self.url, clock=self.clock, **{**self.options, **options})

    def open_fresh(self, **options: Any) -> Backend:
        """A backend of the same kind on new, empty storage."""
        return open_backend(self.fresh_url(), clock=self.clock, **{**self.options, **options})

    def restores_revisions(self, backend: Backend) -> bool:
        """Whether `restore` keeps the snapshot's revisions (etcd's cannot)."""
        return bool(getattr(backend, "restores_revisions", True))


@pytest.fixture(params=["memory", "sqlite", "etcd"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> BackendFactory:
    """A `BackendFactory` for each backend kind; etcd is skipped, with the reason, when its
    backend, its test fixture or the etcd binary is missing."""
    kind: str = request.param
    counter = itertools.count()
    if kind == "memory":
        # Every "memory:" URL is a new, empty store: nothing to reopen.
        return BackendFactory(kind, "memory:", lambda: "memory:", no_restart="memory backend keeps nothing")
    if kind == "sqlite":
        return BackendFactory(
            kind,
            f"sqlite:{tmp_path / 'store.db'}",
            lambda: f"sqlite:{tmp_path / f'fresh-{next(counter)}.db'}",
            no_restart=None,
        )
    # The fixture skips, saying why, when Debian's etcd is not installed or does not start.
    url: str = request.getfixturevalue("etcd_url")
    # A prefix per test is the etcd test fixture's isolation; a fresh store is a sibling prefix.
    return BackendFactory(
        kind,
        url,
        lambda: f"{url}-fresh{next(counter)}",
        no_restart="etcd persists server-side; reopening a client is not a restart of the store",
    )
