"""Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does.

Candidates race to hold one Lease. The holder renews it every `retry_period`; a candidate takes
it over once `lease_duration` has passed since the last renewal it observed (measured on its own
clock, from when it saw the lease change, so clock skew between hosts does not matter). Writes
are compare-and-swap on the Lease's resourceVersion, so two candidates can never both win.

    election = LeaderElector(client, "kube-system", "kube-controller-manager", identity, clock)
    async with anyio.create_task_group() as tg:
        tg.start_soon(election.run, lead)   # `lead` runs while leading, is cancelled on loss
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import structlog

from kube_lite.api.errors import APIError
from kube_lite.client.client import Client
from kube_lite.clock import Clock, RealClock

log = structlog.get_logger(__name__)


def _micro_time(clock: Clock) -> str:
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class LeaderElector:
    """One candidate. `run(lead)` campaigns until cancelled; `lead()` runs while this
    candidate holds the lease and is cancelled as soon as it is lost."""

    client: Client
    namespace: str
    name: str
    identity: str
    clock: Clock = RealClock()  # noqa: RUF009 - a stateless default
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0

    def __post_init__(self) -> None:
        self.is_leader = False
        self._observed: dict[str, Any] | None = None
        self._observed_at = 0.0
        self.transitions = 0

    async def run(self, lead: Callable[[], Awaitable[None]]) -> None:
        """Campaign, lead, and campaign again after a loss, until cancelled. On cancellation
        while leading, the lease is released so that another candidate takes over at once."""
        try:
            while True:
                await self._acquire()
                async with anyio.create_task_group() as tg:
                    tg.start_soon(lead)
                    await self._renew_until_lost()
                    tg.cancel_scope.cancel()
                log.warning("leader election lost", lease=f"{self.namespace}/{self.name}", identity=self.identity)
        finally:
            if self.is_leader:
                with anyio.CancelScope(shield=True), anyio.move_on_after(2):
                    await self._release()

    async def _acquire(self) -> None:
        while not await self.try_acquire_or_renew():
            await self.clock.sleep(self.retry_period)
        log.info("leader election won", lease=f"{self.namespace}/{self.name}", identity=self.identity)

    async def _renew_until_lost(self) -> None:
        last_renew = self.clock.monotonic()
        while True:
            await self.clock.sleep(self.retry_period)
            if await self.try_acquire_or_renew():
                last_renew = self.clock.monotonic()
            elif self.clock.monotonic() - last_renew >= self.renew_deadline or not self.is_leader:
                self.is_leader = False
                return

    async def try_acquire_or_renew(self) -> bool:
        """One attempt: create the Lease, renew it if held, or take it over if expired.
        Returns whether this candidate holds the lease now."""
        now = _micro_time(self.clock)
        try:
            lease = await self.client.get("leases", self.name, namespace=self.namespace)
        except APIError as exc:
            if exc.code != 404:
                log.warning("leader election: cannot read lease", error=exc.message)
                return False
            spec = {
                "holderIdentity": self.identity,
                "leaseDurationSeconds": int(self.lease_duration),
                "acquireTime": now,
                "renewTime": now,
                "leaseTransitions": 0,
            }
            try:
                created = await self.client.create(
                    "leases", {"metadata": {"name": self.name, "namespace": self.namespace}, "spec": spec},
                    namespace=self.namespace,
                )
            except APIError:
                return False
            self._observe(created)
            self.is_leader = True
            return True
        spec = dict(lease.get("spec") or {})
        if lease != self._observed:
            self._observe(lease)
        holder = spec.get("holderIdentity") or ""
        expired = self.clock.monotonic() - self._observed_at >= float(spec.get("leaseDurationSeconds") or self.lease_duration)
        if holder and holder != self.identity and not expired:
            self.is_leader = False
            return False
        if holder != self.identity:
            spec["acquireTime"] = now
            spec["leaseTransitions"] = int(spec.get("leaseTransitions") or 0) + 1
            self.transitions = spec["leaseTransitions"]
        spec["holderIdentity"] = self.identity
        spec["renewTime"] = now
        spec["leaseDurationSeconds"] = int(self.lease_duration)
        lease["spec"] = spec
        try:
            updated = await self.client.update("leases", lease, namespace=self.namespace)
        except APIError as exc:
            if exc.code != 409:
                log.warning("leader election: cannot update lease", error=exc.message)
            return False
        self._observe(updated)
        self.is_leader = True
        return True

    def _observe(self, lease: dict[str, Any]) -> None:
        self._observed = lease
        self._observed_at = self.clock.monotonic()

    async def _release(self) -> None:
        """Give the lease up (holder cleared, duration 1 s) so a successor need not wait."""
        try:
            lease = await self.client.get("leases", self.name, namespace=self.namespace)
            if (lease.get("spec") or {}).get("holderIdentity") != self.identity:
                return
            lease["spec"] = {**lease["spec"], "holderIdentity": "", "leaseDurationSeconds": 1, "renewTime": _micro_time(self.clock)}
            await self.client.update("leases", lease, namespace=self.namespace)
        except APIError:
            pass
        finally:
            self.is_leader = False
