"""Plugin results: the status codes and reasons of Kubernetes' scheduling framework.

A filter plugin answers `None` for "fits" and a `Status` otherwise. A status carries one or more
reasons (the strings the FailedScheduling message counts, "Insufficient cpu") and the name of
the plugin that gave it, so the queue knows which cluster events may make the pod schedulable.
"""

from __future__ import annotations

from enum import IntEnum


class Code(IntEnum):
    """Kubernetes' framework.Code, in its order."""

    SUCCESS = 0
    ERROR = 1
    UNSCHEDULABLE = 2
    # The pod cannot fit the node whatever happens to the pods on it: preemption won't help.
    UNSCHEDULABLE_AND_UNRESOLVABLE = 3
    WAIT = 4
    SKIP = 5


class Status:
    """A non-success result: a code, the reasons, and the plugin that returned it. Immutable
    by convention (statuses are shared: plugins return module-level constants)."""

    __slots__ = ("code", "reasons", "plugin")

    def __init__(self, code: Code, *reasons: str, plugin: str = "") -> None:
        self.code = code
        self.reasons = reasons
        self.plugin = plugin

    @property
    def message(self) -> str:
        """The reasons joined as Kubernetes' Status.Message() joins them."""
        return ", ".join(self.reasons)

    @property
    def unschedulable(self) -> bool:
        return self.code in (Code.UNSCHEDULABLE, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)

    def __repr__(self) -> str:
        return f"Status({self.code.name}, {self.reasons!r}, plugin={self.plugin!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Status)
            and other.code == self.code
            and other.reasons == self.reasons
            and other.plugin == self.plugin
        )

    def __hash__(self) -> int:
        return hash((self.code, self.reasons, self.plugin))


class _Skip:
    """The PreFilter/PreScore answer "this plugin has nothing to say about this pod"."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "SKIP"


SKIP = _Skip()

# Reasons shared between plugins and messages (Kubernetes' exact strings).
NO_NODES_AVAILABLE = "no nodes available to schedule pods"
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_PREEMPTION_VICTIMS = "No preemption victims found for incoming pod"
